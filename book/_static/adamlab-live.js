/* The live figures of the website: controls and drawing, on plain <canvas>, no library.
 *
 * Every number drawn comes from adamlab-rules.js (the library's rules, landscapes and moving
 * averages, checked against the Python); this file only reads the controls and draws. A figure
 * is a <div class="adamlive" data-figure="explorer|ema|bias" data-config="{...}"> written by
 * adamlab.figures.live in the chapter; its static picture stays for print and for readers without
 * JavaScript. After each redraw the figure's element holds what it drew in `.adamliveState`
 * (read by tests/test_site_browser.py).
 */
(function () {
  "use strict";
  const lab = window.adamlab;

  // --- small helpers -----------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    node.append(...children);
    return node;
  }

  // The words of the controls and of the text under each figure follow the page's language
  // (the Korean edition sets <html lang="ko">); the drawings' own labels stay English, like the
  // book's other figures.
  const KO = (document.documentElement.lang || "").startsWith("ko");
  const say = (en, ko) => (KO ? ko : en);

  let uid = 0;
  const newId = (stem) => `adamlive-${stem}-${++uid}`;

  const fmt = (v) => (v === 0 ? "0" : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4
    ? v.toExponential(0) : String(+v.toPrecision(4)));

  // A slider over a list of values (log-spaced where the scale is logarithmic): the range
  // input holds the index, the <output> and aria-valuetext the value.
  function slider(label, values, value, onInput) {
    const id = newId("slider");
    let index = values.findIndex((v) => Math.abs(v - value) <= 1e-12 * Math.max(1, Math.abs(v)));
    if (index < 0) index = 0;
    const input = el("input", { type: "range", id, min: 0, max: values.length - 1, step: 1 });
    input.value = index;
    const out = el("output", { for: id });
    const show = () => {
      const v = values[+input.value];
      out.textContent = fmt(v);
      input.setAttribute("aria-valuetext", fmt(v));
    };
    show();
    input.addEventListener("input", () => { show(); onInput(); });
    const wrap = el("div", { class: "adamlive-knob" }, el("label", { for: id }, label), input, out);
    return { wrap, input, value: () => values[+input.value] };
  }

  // A canvas drawn in CSS pixels at the screen's resolution; plot area inside fixed margins.
  function setupCanvas(canvas, aspect) {
    const width = Math.max(200, canvas.parentElement.clientWidth);
    const height = Math.round(width * aspect);
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return { ctx, width, height };
  }

  function frame(width, height, [x0, x1], [y0, y1], margin = { l: 44, r: 8, t: 8, b: 30 }) {
    const w = width - margin.l - margin.r;
    const h = height - margin.t - margin.b;
    return {
      margin, w, h, x0, x1, y0, y1,
      px: (x) => margin.l + ((x - x0) / (x1 - x0)) * w,
      py: (y) => margin.t + (1 - (y - y0) / (y1 - y0)) * h,
      fromPx: (u, v) => [x0 + ((u - margin.l) / w) * (x1 - x0), y0 + (1 - (v - margin.t) / h) * (y1 - y0)],
    };
  }

  function axes(ctx, fr, xticks, yticks, xlabel, ylabel, yfmt = fmt, xfmt = fmt) {
    ctx.save();
    ctx.strokeStyle = "#444";
    ctx.fillStyle = "#222";
    ctx.lineWidth = 1;
    ctx.strokeRect(fr.margin.l, fr.margin.t, fr.w, fr.h);
    ctx.font = "11px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const x of xticks) ctx.fillText(xfmt(x), fr.px(x), fr.margin.t + fr.h + 3);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const y of yticks) ctx.fillText(yfmt(y), fr.margin.l - 3, fr.py(y));
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(xlabel, fr.margin.l + fr.w / 2, fr.margin.t + fr.h + 28);
    ctx.save();
    ctx.translate(11, fr.margin.t + fr.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(ylabel, 0, 0);
    ctx.restore();
    ctx.restore();
  }

  function ticks(lo, hi) {
    // A step of 1, 2 or 5 times a power of ten, for at most about six ticks.
    const unit = 10 ** Math.floor(Math.log10((hi - lo) / 6));
    const step = unit * ([1, 2, 5, 10].find((m) => (hi - lo) / (m * unit) <= 6) || 10);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(6));
    return out;
  }

  // Clip a coordinate far outside the canvas, where a diverging path goes.
  const clampPx = (v) => Math.max(-1e5, Math.min(1e5, v));

  function polyline(ctx, points, color, width = 1.6) {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    points.forEach(([u, v], i) => (i ? ctx.lineTo(clampPx(u), clampPx(v)) : ctx.moveTo(clampPx(u), clampPx(v))));
    ctx.stroke();
  }

  // --- the trajectory explorer -------------------------------------------------------------

  // log10 of f - f(min) on a grid, shaded in bands between 16 quantiles: explorer._contour.
  // Draws inside the plot area only, so lines leaving the axes' range stop at the frame.
  function clipped(ctx, fr, draw) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(fr.margin.l, fr.margin.t, fr.w, fr.h);
    ctx.clip();
    draw();
    ctx.restore();
  }

  function shading(land, fr, step) {
    const nx = Math.ceil(fr.w / step);
    const ny = Math.ceil(fr.h / step);
    const fmin = land.f(land.minimum);
    const z = new Float64Array(nx * ny);
    let zmax = -Infinity;
    let zmin = Infinity;
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const [x, y] = fr.fromPx(fr.margin.l + (i + 0.5) * step, fr.margin.t + (j + 0.5) * step);
        const v = land.f([x, y]) - fmin;
        z[j * nx + i] = v;
        zmax = Math.max(zmax, v);
        zmin = Math.min(zmin, v);
      }
    }
    const logz = z.map((v) => Math.log10(Math.max(v, 1e-12) + 1e-3 * (zmax - zmin)));
    const sorted = Float64Array.from(logz).sort();
    const levels = Array.from({ length: 15 }, (_, k) => sorted[Math.floor(((k + 1) / 16) * (sorted.length - 1))]);
    const band = logz.map((v) => levels.filter((l) => v > l).length);
    const image = new ImageData(nx, ny);
    for (let k = 0; k < nx * ny; k++) {
      const i = k % nx;
      const edge = (i + 1 < nx && band[k + 1] !== band[k]) || (k + nx < nx * ny && band[k + nx] !== band[k]);
      const grey = edge ? 170 : 150 + Math.round((band[k] / 15) * 100);
      image.data.set([grey, grey, grey, 255], 4 * k);
    }
    const off = document.createElement("canvas");
    off.width = nx;
    off.height = ny;
    off.getContext("2d").putImageData(image, 0, 0);
    return off;
  }

  function explorerFigure(root, config) {
    const state = {
      landscape: config.landscape, rules: new Set(config.rules), start: null, shading: null,
    };
    const live = el("div", { class: "adamlive-live" });
    const controls = el("div", { class: "adamlive-controls" });

    const landId = newId("landscape");
    const landSelect = el("select", { id: landId });
    for (const name of config.landscapes) landSelect.append(el("option", { value: name, text: name }));
    landSelect.value = state.landscape;
    controls.append(el("div", { class: "adamlive-knob" }, el("label", { for: landId, text: say("landscape", "지형") }), landSelect));

    const knobs = {
      lr: slider(say("learning rate", "학습률"), config.lr_values, config.lr, redraw),
      beta1: slider(say("β1 (momentum's μ)", "β1 (모멘텀의 μ)"), config.beta1_values, config.beta1, redraw),
      beta2: slider(say("β2 (RMSProp's α, AdaDelta's ρ)", "β2 (RMSProp의 α, AdaDelta의 ρ)"), config.beta2_values, config.beta2, redraw),
      eps: slider("ε", config.eps_values, config.eps, redraw),
      steps: slider(say("steps", "스텝 수"), Array.from({ length: 100 }, (_, k) => 10 * (k + 1)), config.steps, redraw),
    };
    for (const knob of Object.values(knobs)) controls.append(knob.wrap);

    const startX = el("input", { type: "number", step: "0.1", id: newId("x") });
    const startY = el("input", { type: "number", step: "0.1", id: newId("y") });
    const reset = el("button", { type: "button", text: say("default start", "기본 출발점") });
    controls.append(el("fieldset", { class: "adamlive-start" },
      el("legend", { text: say("start (or click the landscape)", "출발점 (지형을 클릭해도 된다)") }),
      el("label", { for: startX.id, text: "x" }), startX,
      el("label", { for: startY.id, text: "y" }), startY, reset));

    const ruleBoxes = el("fieldset", { class: "adamlive-rules" }, el("legend", { text: say("rules", "규칙") }));
    for (const name of config.all_rules) {
      const id = newId("rule");
      const box = el("input", { type: "checkbox", id, value: name });
      box.checked = state.rules.has(name);
      box.addEventListener("change", () => {
        if (box.checked) state.rules.add(name);
        else state.rules.delete(name);
        redraw();
      });
      const swatch = el("span", { class: "adamlive-swatch", "aria-hidden": "true" });
      swatch.style.background = config.colors[name];
      ruleBoxes.append(el("div", {}, box, el("label", { for: id }, swatch, name)));
    }

    const landCanvas = el("canvas", { tabindex: "0", role: "img", class: "adamlive-landscape" });
    const lossCanvas = el("canvas", { role: "img", class: "adamlive-loss" });
    const status = el("p", { class: "adamlive-status", "aria-live": "polite" });
    const plots = el("div", { class: "adamlive-plots" },
      el("div", { class: "adamlive-panel" }, landCanvas), el("div", { class: "adamlive-panel" }, lossCanvas));
    // Plots first: on a phone they sit above the controls; on a wide screen CSS puts them right.
    live.append(el("div", { class: "adamlive-row" }, plots, el("div", { class: "adamlive-side" }, controls, ruleBoxes)), status);
    root.append(live);

    const land = () => lab.LANDSCAPES[state.landscape]();
    let fr = null;

    function setStart(point) {
      const [[x0, x1], [y0, y1]] = land().bounds;
      state.start = [Math.min(x1, Math.max(x0, point[0])), Math.min(y1, Math.max(y0, point[1]))];
      redraw();
    }

    landSelect.addEventListener("change", () => {
      state.landscape = landSelect.value;
      state.start = null;
      state.shading = null;
      redraw();
    });
    reset.addEventListener("click", () => { state.start = null; redraw(); });
    for (const input of [startX, startY]) {
      input.addEventListener("change", () => {
        const point = [parseFloat(startX.value), parseFloat(startY.value)];
        if (point.every(Number.isFinite)) setStart(point);
      });
    }
    landCanvas.addEventListener("click", (event) => {
      const rect = landCanvas.getBoundingClientRect();
      setStart(fr.fromPx(event.clientX - rect.left, event.clientY - rect.top));
    });
    landCanvas.addEventListener("keydown", (event) => {
      // Arrow keys move the start by a fiftieth of the picture (a tenth with Shift).
      const [[x0, x1], [y0, y1]] = land().bounds;
      const k = event.shiftKey ? 0.1 : 0.02;
      const moves = { ArrowLeft: [-k * (x1 - x0), 0], ArrowRight: [k * (x1 - x0), 0],
        ArrowUp: [0, k * (y1 - y0)], ArrowDown: [0, -k * (y1 - y0)] };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const s = state.start || land().start;
      setStart([s[0] + moves[event.key][0], s[1] + moves[event.key][1]]);
    });

    function redraw() {
      const L = land();
      const start = state.start || L.start;
      startX.value = +start[0].toPrecision(6);
      startY.value = +start[1].toPrecision(6);
      const settings = { lr: knobs.lr.value(), beta1: knobs.beta1.value(), beta2: knobs.beta2.value(), eps: knobs.eps.value() };
      const steps = knobs.steps.value();
      const names = config.all_rules.filter((n) => state.rules.has(n));
      const paths = Object.fromEntries(names.map((n) => [n, lab.trajectory(n, L, settings, steps, start)]));
      const fmin = L.f(L.minimum);
      const gaps = Object.fromEntries(names.map((n) => [n, paths[n].map((p) => L.f(p) - fmin)]));

      // Left: the landscape and the paths.
      const [xb, yb] = L.bounds;
      const aspect = Math.min(0.85, Math.max(0.55, (yb[1] - yb[0]) / (xb[1] - xb[0])));
      const c1 = setupCanvas(landCanvas, aspect);
      fr = frame(c1.width, c1.height, xb, yb);
      if (!state.shading || state.shading.key !== `${c1.width}x${c1.height}`) {
        state.shading = { key: `${c1.width}x${c1.height}`, image: shading(L, fr, 2) };
      }
      const ctx = c1.ctx;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(state.shading.image, fr.margin.l, fr.margin.t, fr.w, fr.h);
      clipped(ctx, fr, () => {
        for (const n of names) {
          const finite = paths[n].filter((p) => p.every(Number.isFinite));
          polyline(ctx, finite.map(([x, y]) => [fr.px(x), fr.py(y)]), config.colors[n]);
        }
        marker(ctx, fr.px(L.minimum[0]), fr.py(L.minimum[1]), "star");
        marker(ctx, fr.px(start[0]), fr.py(start[1]), "dot");
      });
      axes(ctx, fr, ticks(...xb), ticks(...yb), "x", "y");

      // Right: f - f(min) against the step, on a log scale.
      const c2 = setupCanvas(lossCanvas, aspect);
      const logs = names.flatMap((n) => gaps[n].filter(Number.isFinite).map((g) => Math.log10(Math.max(g, 1e-16))));
      const top = Math.min(12, Math.ceil(Math.max(1, ...logs)));
      const bottom = Math.max(-16, Math.floor(Math.min(top - 1, ...logs)));
      const fr2 = frame(c2.width, c2.height, [0, steps], [bottom, top]);
      const yt = ticks(bottom, top).filter((v) => Number.isInteger(v));
      const c = c2.ctx;
      clipped(c, fr2, () => {
        for (const n of names) {
          const pts = [];
          gaps[n].forEach((g, k) => { if (Number.isFinite(g)) pts.push([fr2.px(k), fr2.py(Math.log10(Math.max(g, 1e-16)))]); });
          polyline(c, pts, config.colors[n]);
        }
      });
      axes(c, fr2, ticks(0, steps), yt, "step", "f − f(min)", (v) => `1e${v}`);

      // Words: for screen readers, and the numbers a reader may want.
      const ends = names.map((n) => {
        const bad = paths[n].findIndex((p) => !p.every(Number.isFinite));
        const gap = gaps[n][steps].toExponential(1);
        if (bad >= 0) return say(`${n} diverged at step ${bad}`, `${n}: ${bad}번째 스텝에서 발산`);
        return say(`${n} ends ${gap} above the minimum`, `${n}: 최솟값보다 ${gap} 높은 곳에서 끝남`);
      });
      const where = say(`${L.name}, start (${fmt(start[0])}, ${fmt(start[1])})`,
        `${L.name}, 출발점 (${fmt(start[0])}, ${fmt(start[1])})`);
      const shown = names.join(", ") || say("no rule", "규칙 없음");
      landCanvas.setAttribute("aria-label", say(
        `Contours of ${where}, star at the minimum, with the paths of ${shown}. Arrow keys move the start.`,
        `${where}의 등고선. 별은 최솟값이고, 경로는 ${shown}의 것이다. 화살표 키로 출발점을 옮긴다.`));
      lossCanvas.setAttribute("aria-label", say(
        `Loss above the minimum against the step, log scale, for ${shown}.`,
        `${shown}의 손실이 최솟값보다 높은 정도를 스텝에 대해 로그 눈금으로 그렸다.`));
      // Every knob's value, so that the status line (an aria-live region) says what each change did.
      const knobsSaid = `α = ${fmt(settings.lr)}, β1 = ${fmt(settings.beta1)}, ` +
        `β2 = ${fmt(settings.beta2)}, ε = ${fmt(settings.eps)}`;
      status.textContent = !names.length ? say("Choose at least one rule.", "규칙을 하나 이상 골라 보라.")
        : say(`After ${steps} steps on ${where}, with ${knobsSaid}: ${ends.join("; ")}.`,
          `${where}에서 ${knobsSaid}로 ${steps}스텝 뒤. ${ends.join("; ")}.`);
      root.adamliveState = { landscape: L.name, rules: names, settings, steps, start, paths };
    }

    function marker(ctx, u, v, kind) {
      ctx.fillStyle = "#000";
      ctx.beginPath();
      if (kind === "dot") ctx.arc(u, v, 4, 0, 2 * Math.PI);
      else for (let k = 0; k < 10; k++) {
        const r = k % 2 ? 3.5 : 8;
        const a = -Math.PI / 2 + (k * Math.PI) / 5;
        ctx.lineTo(u + r * Math.cos(a), v + r * Math.sin(a));
      }
      ctx.fill();
    }

    return redraw;
  }

  // --- the moving-average explorer (ema_explorer.draw_explorer) -------------------------------

  function emaFigure(root, config) {
    const xs = config.stream;
    const live = el("div", { class: "adamlive-live" });
    const tValues = [...new Set(Array.from({ length: 241 }, (_, k) => Math.round(10 ** ((3 * k) / 240))))]
      .filter((t) => t <= xs.length);
    const beta = slider("β", config.beta_values, config.beta, redraw);
    const t = slider(say("step t", "스텝 t"), tValues, config.t, redraw);
    const weightCanvas = el("canvas", { role: "img" });
    const avgCanvas = el("canvas", { role: "img" });
    const status = el("p", { class: "adamlive-status", "aria-live": "polite" });
    live.append(el("div", { class: "adamlive-controls adamlive-inline" }, beta.wrap, t.wrap),
      el("div", { class: "adamlive-plots" },
        el("div", { class: "adamlive-panel" }, weightCanvas), el("div", { class: "adamlive-panel" }, avgCanvas)),
      status);
    root.append(live);

    function redraw() {
      const b = beta.value();
      const T = t.value();
      const raw = lab.ema(xs.slice(0, T), b);
      const corrected = lab.ema(xs.slice(0, T), b, true);
      const weights = lab.emaWeights(b, T).reverse(); // weights[i] multiplies x_{i+1}
      const zeroStart = b ** T;

      // Left: the weight of each input in v_t.
      const c1 = setupCanvas(weightCanvas, 0.7);
      const wmax = Math.max(1.05 * Math.max(...weights), 1e-3);
      const tmax = Math.max(T, 10);
      const fr = frame(c1.width, c1.height, [0.5, tmax + 0.5], [0, wmax], { l: 50, r: 8, t: 8, b: 30 });
      c1.ctx.fillStyle = "#1f77b4";
      weights.forEach((w, i) => {
        const u0 = fr.px(i + 0.5);
        const u1 = fr.px(i + 1.5);
        c1.ctx.fillRect(u0, fr.py(w), Math.max(1, u1 - u0 - (T <= 60 ? 1 : 0)), fr.py(0) - fr.py(w));
      });
      // Ticks inside [0, wmax]: a rounded-up top tick would be drawn above the frame.
      axes(c1.ctx, fr, ticks(1, tmax).filter((v) => v >= 1 && Number.isInteger(v)),
        ticks(0, wmax).filter((v, k, all) => all.length <= 4 || k % 2 === 0), "input i", "weight in v_t",
        (v) => String(+v.toPrecision(2)));

      // Right: the squared gradients, the raw and the corrected average, the true value.
      const c2 = setupCanvas(avgCanvas, 0.7);
      const shown = [20, 50, 100, 200, 500, 1000, xs.length].find((n) => n >= T); // steps on the axis
      const fr2 = frame(c2.width, c2.height, [0, shown], [0, 2.5 * config.truth]);
      const c = c2.ctx;
      clipped(c, fr2, () => {
        c.fillStyle = "#b3b3b3";
        for (let i = 0; i < T; i++) c.fillRect(fr2.px(i + 1) - 1, fr2.py(xs[i]) - 1, 2, 2);
        c.setLineDash([2, 3]);
        polyline(c, [[fr2.px(0), fr2.py(config.truth)], [fr2.px(shown), fr2.py(config.truth)]], "#000", 1);
        c.setLineDash([]);
        polyline(c, raw.map((v, i) => [fr2.px(i + 1), fr2.py(v)]), "#d62728", 2);
        polyline(c, corrected.map((v, i) => [fr2.px(i + 1), fr2.py(v)]), "#2ca02c", 2);
      });
      axes(c, fr2, ticks(0, shown), ticks(0, 2.5 * config.truth), "step t", "g², v_t, v̂_t");

      const v = raw[T - 1];
      const vh = corrected[T - 1];
      const sum = (1 - zeroStart).toFixed(3);
      status.textContent = say(
        `β = ${b}, t = ${T}: v_t = ${v.toFixed(3)} (raw, red), v̂_t = ${vh.toFixed(3)} ` +
        `(corrected, green), true E[g²] = ${config.truth}; the inputs' weights sum to ` +
        `${sum}, and ${zeroStart.toFixed(3)} sits on the zero start.`,
        `β = ${b}, t = ${T}: v_t = ${v.toFixed(3)} (보정 전, 빨강), v̂_t = ${vh.toFixed(3)} ` +
        `(보정 후, 초록), 참값 E[g²] = ${config.truth}. 입력들의 가중치를 모두 더하면 ${sum}이고, ` +
        `나머지 ${zeroStart.toFixed(3)}은 출발점인 0에 얹혀 있다.`);
      weightCanvas.setAttribute("aria-label", say(
        `Bars: the weight v_t gives each of the ${T} inputs so far; they sum to ${sum}.`,
        `막대: v_t가 지금까지의 입력 ${T}개 각각에 주는 가중치. 모두 더하면 ${sum}이다.`));
      avgCanvas.setAttribute("aria-label", say(
        `The squared gradients so far (grey dots), the raw average v_t (red) and the corrected average (green) up to step ${T}.`,
        `스텝 ${T}까지의 기울기 제곱(회색 점), 보정 전 평균 v_t(빨강), 보정 후 평균(초록).`));
      root.adamliveState = { beta: b, t: T, raw, corrected, weights };
    }
    return redraw;
  }

  // --- the bias-correction figure (analysis.draw_bias_correction) ----------------------------

  const decade = (k) => String(10 ** k);  // a tick at log10 = k, labelled with its value

  // A legend in the top right corner of the plot area: [label, color, dashed] per line.
  function legend(ctx, fr, entries) {
    ctx.save();
    ctx.font = "11px sans-serif";
    const width = Math.max(...entries.map(([label]) => ctx.measureText(label).width)) + 34;
    const x = fr.margin.l + fr.w - width - 4;
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillRect(x, fr.margin.t + 4, width, 16 * entries.length + 4);
    entries.forEach(([label, color, dashed], k) => {
      const y = fr.margin.t + 14 + 16 * k;
      ctx.setLineDash(dashed ? [4, 3] : []);
      polyline(ctx, [[x + 4, y], [x + 26, y]], color, 2);
      ctx.setLineDash([]);
      ctx.fillStyle = "#222";
      ctx.textBaseline = "middle";
      ctx.fillText(label, x + 30, y);
    });
    ctx.restore();
  }

  function biasFigure(root, config) {
    const squares = config.grads.map((g) => g * g);
    const ones = config.grads.map(() => [1.0]);
    const steps = squares.length;
    const live = el("div", { class: "adamlive-live" });
    const beta1 = slider("β1", config.beta1_values, config.beta1, redraw);
    const beta2 = slider("β2", config.beta2_values, config.beta2, redraw);
    const momentCanvas = el("canvas", { role: "img" });
    const stepCanvas = el("canvas", { role: "img" });
    const status = el("p", { class: "adamlive-status", "aria-live": "polite" });
    live.append(el("div", { class: "adamlive-controls adamlive-inline" }, beta1.wrap, beta2.wrap),
      el("div", { class: "adamlive-plots" },
        el("div", { class: "adamlive-panel" }, momentCanvas), el("div", { class: "adamlive-panel" }, stepCanvas)),
      status);
    root.append(live);
    const logT = Array.from({ length: steps }, (_, i) => Math.log10(i + 1));
    const xTop = Math.log10(steps);
    const xticks = [0, 1, 2, 3].filter((k) => k <= xTop);

    function redraw() {
      const b1 = beta1.value();
      const b2 = beta2.value();
      const raw = lab.ema(squares, b2);
      const corrected = lab.ema(squares, b2, true);
      const hp = { lr: 1.0, beta1: b1, beta2: b2, eps: 0.0 };
      const uncorrectedSteps = lab.traceUpdates("Adam (no bias correction)", ones, hp).map((u) => Math.abs(u[0]));
      const correctedSteps = lab.traceUpdates("Adam", ones, hp).map((u) => Math.abs(u[0]));

      // Left: the second moment with and without correction, log-scale steps.
      const c1 = setupCanvas(momentCanvas, 0.7);
      const fr = frame(c1.width, c1.height, [0, xTop], [0, 2 * config.truth]);
      clipped(c1.ctx, fr, () => {
        c1.ctx.setLineDash([4, 3]);
        polyline(c1.ctx, [[fr.px(0), fr.py(config.truth)], [fr.px(xTop), fr.py(config.truth)]], "#000", 1);
        c1.ctx.setLineDash([]);
        polyline(c1.ctx, raw.map((v, i) => [fr.px(logT[i]), fr.py(v)]), "#1f77b4");
        polyline(c1.ctx, corrected.map((v, i) => [fr.px(logT[i]), fr.py(v)]), "#ff7f0e");
      });
      axes(c1.ctx, fr, xticks, ticks(0, 2 * config.truth), "step t", "second moment", fmt, decade);
      legend(c1.ctx, fr, [["uncorrected v_t", "#1f77b4"], ["corrected v̂_t", "#ff7f0e"], ["E[g²]", "#000", true]]);

      // Right: |step| / alpha on a constant gradient, log-log.
      const c2 = setupCanvas(stepCanvas, 0.7);
      const lo = Math.log10(0.3);
      const hi = Math.log10(300);
      const fr2 = frame(c2.width, c2.height, [0, xTop], [lo, hi]);
      const ly = (v) => fr2.py(Math.log10(Math.max(v, 1e-300)));
      clipped(c2.ctx, fr2, () => {
        polyline(c2.ctx, uncorrectedSteps.map((v, i) => [fr2.px(logT[i]), ly(v)]), "#1f77b4");
        c2.ctx.setLineDash([5, 4]);
        polyline(c2.ctx, correctedSteps.map((v, i) => [fr2.px(logT[i]), ly(v)]), "#000");
        c2.ctx.setLineDash([]);
      });
      axes(c2.ctx, fr2, xticks, [0, 1, 2], "step t", "|Δ_t| / α", decade, decade);
      legend(c2.ctx, fr2, [["no correction", "#1f77b4"], ["with correction", "#000", true]]);

      const peak = uncorrectedSteps.reduce((best, v, i) => (v > uncorrectedSteps[best] ? i : best), 0);
      const drift = Math.max(...correctedSteps.map((v) => Math.abs(v - 1)));
      const tenth = Math.min(10, steps) - 1;
      const [first, most] = [uncorrectedSteps[0].toFixed(3), uncorrectedSteps[peak].toFixed(3)];
      status.textContent = say(
        `β1 = ${b1}, β2 = ${b2}. Second moment at step ${tenth + 1}: ` +
        `uncorrected ${raw[tenth].toFixed(3)}, corrected ${corrected[tenth].toFixed(3)} ` +
        `(true E[g²] = ${config.truth}). Step on a constant gradient: uncorrected, ` +
        `${first} α at step 1 and at most ${most} α ` +
        `(step ${peak + 1}); corrected, within ${drift.toExponential(1)} of α at every step.`,
        `β1 = ${b1}, β2 = ${b2}. 스텝 ${tenth + 1}의 2차 모멘트: ` +
        `보정 전 ${raw[tenth].toFixed(3)}, 보정 후 ${corrected[tenth].toFixed(3)} ` +
        `(참값 E[g²] = ${config.truth}). 일정한 기울기에서의 스텝: 보정 전에는 ` +
        `스텝 1에서 ${first} α, 가장 클 때 ${most} α(스텝 ${peak + 1}). ` +
        `보정 후에는 모든 스텝에서 α와의 차이가 ${drift.toExponential(1)} 이내.`);
      momentCanvas.setAttribute("aria-label", say(
        `The uncorrected (blue) and corrected (orange) moving average of a noisy squared gradient over ${steps} steps, log-scale steps, against its true mean ${config.truth} (dashed).`,
        `잡음 섞인 기울기 제곱의 이동 평균을 ${steps}스텝 동안 그렸다. 보정 전(파랑)과 보정 후(주황), 스텝은 로그 눈금, 참 평균 ${config.truth}(점선).`));
      stepCanvas.setAttribute("aria-label", say(
        "Adam's step on a constant gradient, in units of α, without correction (blue) and with it (dashed), log-log.",
        "일정한 기울기에서 Adam의 스텝을 α 단위로 그렸다. 보정 없이(파랑), 보정하고(점선), 양쪽 로그 눈금."));
      root.adamliveState = { beta1: b1, beta2: b2, raw, corrected, uncorrectedSteps, correctedSteps };
    }
    return redraw;
  }

  // --- start every figure of the page ------------------------------------------------------

  const FIGURES = { explorer: explorerFigure, ema: emaFigure, bias: biasFigure };

  function start(root) {
    const make = FIGURES[root.dataset.figure];
    if (!make || root.adamliveState) return;
    root.classList.add("adamlive-ready");
    const redraw = make(root, JSON.parse(root.dataset.config));
    redraw();
    let width = root.clientWidth;
    new ResizeObserver(() => {
      if (root.clientWidth !== width) { width = root.clientWidth; redraw(); }
    }).observe(root);
  }

  function startAll() { document.querySelectorAll(".adamlive").forEach(start); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
