/* The optimizer rules, toy landscapes and moving averages of the book's Python library
 * (src/adamlab/rules.py, landscapes.py, ema.py), in JavaScript, for the live figures of the site.
 *
 * Read it beside the Python: each rule is the same lines in the same order, on points of the
 * plane stored as arrays [x, y]; every operation is applied to each coordinate (`each`), as
 * NumPy applies it to each element. The order of the arithmetic is kept too, so that the two
 * round alike. tests/test_live_module.py runs every rule on every landscape here and in
 * Python, for several settings of every knob, and fails if a path differs by more than 1e-9.
 *
 * Loaded as a plain script: it defines one global, `adamlab`.
 */
(function (global) {
  "use strict";

  // each(f, a, b, ...) = [f(a[0], b[0], ...), f(a[1], b[1], ...), ...]: NumPy's elementwise ops.
  function each(f, ...arrays) {
    return arrays[0].map((_, i) => f(...arrays.map((a) => a[i])));
  }
  const zerosLike = (x) => x.map(() => 0);

  // ---------------------------------------------------------------------------------------
  // The rules: [update, newState] = rule(g, state, hyperparameters)   (rules.py)
  // ---------------------------------------------------------------------------------------

  function sgd(g, state, { lr }) {
    return [g.map((g) => -lr * g), { t: state.t + 1 }];
  }

  function momentum(g, state, { lr, mu, nesterov = false }) {
    // Sutskever et al. (2013): v <- mu v - lr g; Nesterov steps mu v_new - lr g.
    const v = each((v, g) => mu * v - lr * g, state.velocity, g);
    const update = nesterov ? each((v, g) => mu * v - lr * g, v, g) : v;
    return [update, { t: state.t + 1, velocity: v }];
  }

  function adagrad(g, state, { lr, eps }) {
    // Duchi et al. (2011): G <- G + g^2; step -lr g / (sqrt(G) + eps). (No lr_decay here.)
    const t = state.t + 1;
    const G = each((s, g) => s + g * g, state.sum, g);
    const lr_t = lr / (1 + (t - 1) * 0.0);
    return [each((g, G) => (-lr_t * g) / (Math.sqrt(G) + eps), g, G), { t, sum: G }];
  }

  function rmsprop(g, state, { lr, alpha, eps }) {
    // Tieleman & Hinton (2012), PyTorch's defaults: not centered, no momentum, eps outside.
    const r = each((r, g) => alpha * r + (1 - alpha) * g * g, state.square_avg, g);
    const update = each((g, r) => (-lr * g) / (Math.sqrt(r) + eps), g, r);
    return [update, { t: state.t + 1, square_avg: r }];
  }

  function adadelta(g, state, { lr, rho, eps }) {
    // Zeiler (2012): the step's units come from an EMA of past squared steps.
    const square_avg = each((s, g) => rho * s + (1 - rho) * g * g, state.square_avg, g);
    const delta = each(
      (a, s, g) => (Math.sqrt(a + eps) / Math.sqrt(s + eps)) * g,
      state.acc_delta, square_avg, g,
    );
    const acc_delta = each((a, d) => rho * a + (1 - rho) * d * d, state.acc_delta, delta);
    return [delta.map((d) => -lr * d), { t: state.t + 1, square_avg, acc_delta }];
  }

  function adam(g, state, { lr, beta1, beta2, eps }) {
    // Algorithm 1 of Kingma & Ba (2015), line for line.
    const t = state.t + 1;
    const m = each((m, g) => beta1 * m + (1 - beta1) * g, state.m, g); // biased first moment
    const v = each((v, g) => beta2 * v + (1 - beta2) * g * g, state.v, g); // biased second raw moment
    const m_hat = m.map((m) => m / (1 - beta1 ** t)); // bias-corrected first moment
    const v_hat = v.map((v) => v / (1 - beta2 ** t)); // bias-corrected second raw moment
    const update = each((m_hat, v_hat) => (-lr * m_hat) / (Math.sqrt(v_hat) + eps), m_hat, v_hat);
    return [update, { t, m, v }];
  }

  function adam_efficient(g, state, { lr, beta1, beta2, eps_hat }) {
    // Section 2's order: alpha_t = alpha sqrt(1 - beta2^t) / (1 - beta1^t); step alpha_t m / (sqrt(v) + eps_hat).
    const t = state.t + 1;
    const m = each((m, g) => beta1 * m + (1 - beta1) * g, state.m, g);
    const v = each((v, g) => beta2 * v + (1 - beta2) * g * g, state.v, g);
    const lr_t = (lr * (1 - beta2 ** t) ** 0.5) / (1 - beta1 ** t);
    return [each((m, v) => (-lr_t * m) / (Math.sqrt(v) + eps_hat), m, v), { t, m, v }];
  }

  function adam_no_bias_correction(g, state, { lr, beta1, beta2, eps }) {
    // Adam with both corrections removed (the Section 6.4 ablation).
    const m = each((m, g) => beta1 * m + (1 - beta1) * g, state.m, g);
    const v = each((v, g) => beta2 * v + (1 - beta2) * g * g, state.v, g);
    return [each((m, v) => (-lr * m) / (Math.sqrt(v) + eps), m, v), { t: state.t + 1, m, v }];
  }

  function amsgrad(g, state, { lr, beta1, beta2, eps }) {
    // Reddi, Kale & Kumar (2018): v_max <- max(v_max, v), the maximum of the raw v, corrected after.
    const t = state.t + 1;
    const m = each((m, g) => beta1 * m + (1 - beta1) * g, state.m, g);
    const v = each((v, g) => beta2 * v + (1 - beta2) * g * g, state.v, g);
    const v_max = each((a, b) => Math.max(a, b), state.v_max, v);
    const c1 = 1 - beta1 ** t;
    const c2 = 1 - beta2 ** t;
    const update = each((m, vm) => (-lr * (m / c1)) / (Math.sqrt(vm / c2) + eps), m, v_max);
    return [update, { t, m, v, v_max }];
  }

  function adamw(g, state, param, { lr, beta1, beta2, eps, weight_decay }) {
    // Loshchilov & Hutter (2019): Adam's step, plus a decay -lr * weight_decay * theta outside it.
    const [update, newState] = adam(g, state, { lr, beta1, beta2, eps });
    return [each((u, p) => u - lr * weight_decay * p, update, param), newState];
  }

  function adamax(g, state, { lr, beta1, beta2, eps }) {
    // Algorithm 2 of Kingma & Ba (2015); eps inside the maximum, as PyTorch (0 in the paper).
    const t = state.t + 1;
    const m = each((m, g) => beta1 * m + (1 - beta1) * g, state.m, g);
    const u = each((u, g) => Math.max(beta2 * u, Math.abs(g) + eps), state.u, g);
    return [each((m, u) => (-(lr / (1 - beta1 ** t)) * m) / u, m, u), { t, m, u }];
  }

  // The zoo, with the defaults of RULES in rules.py.
  const init = (...names) => (x) =>
    Object.fromEntries([["t", 0], ...names.map((n) => [n, zerosLike(x)])]);
  const RULES = {
    SGD: { step: sgd, init: init(), defaults: { lr: 1e-2 } },
    Momentum: { step: momentum, init: init("velocity"), defaults: { lr: 1e-2, mu: 0.9 } },
    Nesterov: {
      step: momentum, init: init("velocity"), defaults: { lr: 1e-2, mu: 0.9, nesterov: true },
    },
    AdaGrad: { step: adagrad, init: init("sum"), defaults: { lr: 1e-2, eps: 1e-10 } },
    RMSProp: {
      step: rmsprop, init: init("square_avg"), defaults: { lr: 1e-2, alpha: 0.9, eps: 1e-8 },
    },
    AdaDelta: {
      step: adadelta, init: init("square_avg", "acc_delta"),
      defaults: { lr: 1.0, rho: 0.95, eps: 1e-6 },
    },
    Adam: {
      step: adam, init: init("m", "v"),
      defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    },
    "Adam (no bias correction)": {
      step: adam_no_bias_correction, init: init("m", "v"),
      defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    },
    "Adam (efficient form)": {
      step: adam_efficient, init: init("m", "v"),
      defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps_hat: 1e-8 },
    },
    AMSGrad: {
      step: amsgrad, init: init("m", "v", "v_max"),
      defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    },
    AdamW: {
      step: adamw, init: init("m", "v"), needsParam: true,
      defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-2 },
    },
    AdaMax: {
      step: adamax, init: init("m", "u"),
      defaults: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 0.0 },
    },
  };

  // ---------------------------------------------------------------------------------------
  // The landscapes (landscapes.py): f, its gradient, a start, the minimum, the drawn bounds
  // ---------------------------------------------------------------------------------------

  function quadratic(a = 1.0, b = 20.0) {
    // f(x, y) = (a x^2 + b y^2) / 2: a valley with condition number b / a.
    const h = [a, b];
    return {
      name: "quadratic",
      f: ([x, y]) => 0.5 * (h[0] * x ** 2 + h[1] * y ** 2),
      grad: (p) => each((h, x) => h * x, h, p),
      start: [-1.8, 0.6], minimum: [0, 0], bounds: [[-2, 2], [-1, 1]],
    };
  }

  function rosenbrock(a = 1.0, b = 100.0) {
    // f(x, y) = (a - x)^2 + b (y - x^2)^2: a curved, flat-bottomed valley; minimum (a, a^2).
    return {
      name: "rosenbrock",
      f: ([x, y]) => (a - x) ** 2 + b * (y - x * x) ** 2,
      grad: ([x, y]) => [-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)],
      start: [-1.5, 2.0], minimum: [a, a * a], bounds: [[-2, 2], [-1, 3]],
    };
  }

  function beale() {
    // Beale's function: sum over k = 1, 2, 3 of (c_k - x + x y^k)^2; minimum (3, 0.5).
    const c = [1.5, 2.25, 2.625];
    const K = [1, 2, 3];
    const terms = ([x, y]) => K.map((k, i) => c[i] - x + x * y ** k);
    const sum = (xs) => xs.reduce((s, x) => s + x, 0);
    return {
      name: "beale",
      f: (p) => sum(terms(p).map((r) => r ** 2)),
      grad: (p) => {
        const [x, y] = p;
        const r = terms(p);
        return [
          sum(K.map((k, i) => 2 * r[i] * (y ** k - 1))),
          sum(K.map((k, i) => 2 * r[i] * x * k * y ** (k - 1))),
        ];
      },
      start: [1.0, 1.5], minimum: [3.0, 0.5], bounds: [[-4.5, 4.5], [-4.5, 4.5]],
    };
  }

  function saddle() {
    // f(x, y) = x^2 - y^2 + y^4 / 4: a saddle at the origin, minima at (0, +-sqrt 2).
    return {
      name: "saddle",
      f: ([x, y]) => x * x - y * y + 0.25 * y ** 4,
      grad: ([x, y]) => [2 * x, -2 * y + y ** 3],
      start: [-1.5, 1e-3], minimum: [0.0, Math.sqrt(2.0)], bounds: [[-2, 2], [-2, 2]],
    };
  }

  const LANDSCAPES = { quadratic, rosenbrock, beale, saddle };

  // The loop of landscapes.run: the path, one point per step; a path that leaves the floats is
  // cut there and filled with NaN.
  function run(rule, grad, x0, steps, hyper = {}) {
    if (typeof rule === "string") rule = RULES[rule];
    const hp = { ...rule.defaults, ...hyper };
    let x = x0.slice();
    let state = rule.init(x);
    const path = Array.from({ length: steps + 1 }, () => x.map(() => NaN));
    path[0] = x;
    for (let t = 1; t <= steps; t++) {
      const g = grad(x);
      let update;
      if (rule.needsParam) [update, state] = rule.step(g, state, x, hp);
      else [update, state] = rule.step(g, state, hp);
      x = each((x, u) => x + u, x, update);
      if (!x.every(Number.isFinite)) break;
      path[t] = x;
    }
    return path;
  }

  // analysis.trace_updates: feed the gradients (one array per step) to one rule, from the rule's
  // zero state; the updates, one per gradient. Only for rules that do not read the parameter.
  function traceUpdates(rule, grads, hyper) {
    if (typeof rule === "string") rule = RULES[rule];
    if (rule.needsParam) throw new Error("traceUpdates: this rule reads the parameter; use run");
    let state = rule.init(grads[0]);
    return grads.map((g) => {
      let update;
      [update, state] = rule.step(g, state, hyper);
      return update;
    });
  }

  // ---------------------------------------------------------------------------------------
  // The explorer's knobs (explorer.py): one set drives every rule, under the rule's own names
  // ---------------------------------------------------------------------------------------

  const KNOB_NAMES = { beta1: ["beta1", "mu"], beta2: ["beta2", "alpha", "rho"], eps: ["eps", "eps_hat"] };
  // Rules whose eps is not the small guard of a division: AdaGrad's default is 1e-10,
  // AdaDelta's eps sets the size of its steps, and AdaMax has none in the paper. The eps knob
  // leaves them at their defaults.
  const OWN_EPS = ["AdaGrad", "AdaDelta", "AdaMax"];

  function knobNames(name) {
    const rule = RULES[name];
    const names = { lr: "lr" };
    for (const [knob, candidates] of Object.entries(KNOB_NAMES)) {
      if (knob === "eps" && OWN_EPS.includes(name)) continue;
      const found = candidates.find((c) => c in rule.defaults);
      if (found !== undefined) names[knob] = found;
    }
    return names;
  }

  function hyperparameters(name, knobs) {
    const hp = { ...RULES[name].defaults };
    for (const [knob, argument] of Object.entries(knobNames(name))) {
      if (knobs[knob] !== undefined) hp[argument] = knobs[knob];
    }
    return hp;
  }

  function trajectory(name, landscape, knobs, steps, start) {
    const land = typeof landscape === "string" ? LANDSCAPES[landscape]() : landscape;
    return run(RULES[name], land.grad, start || land.start, steps, hyperparameters(name, knobs));
  }

  // ---------------------------------------------------------------------------------------
  // Exponential moving averages (ema.py)
  // ---------------------------------------------------------------------------------------

  function ema(xs, beta, biasCorrection = false) {
    // m_t = beta m_{t-1} + (1 - beta) x_t from m_0 = 0; optionally divided by 1 - beta^t.
    let m = 0.0;
    return xs.map((x, i) => {
      const t = i + 1;
      m = beta * m + (1 - beta) * x;
      return biasCorrection ? m / (1 - beta ** t) : m;
    });
  }

  function emaWeights(beta, t) {
    // The weight (1 - beta) beta^k of the input k steps back, k = 0 .. t-1; they sum to 1 - beta^t.
    return Array.from({ length: t }, (_, k) => (1 - beta) * beta ** k);
  }

  global.adamlab = {
    RULES, LANDSCAPES, OWN_EPS, run, traceUpdates, knobNames, hyperparameters, trajectory, ema,
    emaWeights,
  };
})(typeof window !== "undefined" ? window : globalThis);
