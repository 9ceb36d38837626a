"""The flat rung: one call and one pass over memory for a whole parameter group.

The compiled rung of :mod:`adamlab.fast` makes each step a single pass over memory, but it
still pays a fixed cost per tensor: ``torch.compile`` specializes its kernel on the list of
shapes (compiling one loop per tensor, minutes for a few hundred tensors), and the call
checks every tensor it receives. ``torch.optim.Adam(fused=True)`` has the same structure,
one kernel launch per tensor. This rung removes the bookkeeping:

* **Flat state.** A group's ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq`` or
  ``exp_inf``) are views into one contiguous buffer each, and its step counts are one vector.
  ``optimizer.state[p]`` holds those views, under torch's keys, so ``state_dict`` and
  ``load_state_dict`` see torch's per-parameter layout and move both ways between this path,
  the other paths and ``torch.optim.Adam``.
* **Parameters and gradients stay where torch puts them.** Autograd writes each gradient into
  a tensor of its own, and ``zero_grad(set_to_none=True)`` throws it away every step; gathering
  the gradients into a buffer would read and write them once more (8 bytes per parameter in
  float32 on top of the 28 a step needs). Instead the step receives a table of addresses, one
  row per tensor, and reads each gradient in place.
* **One call, one loop.** :data:`KERNEL_SOURCE` is a short C loop that walks the table and
  applies Algorithm 1 to every element, reading p, g, m, v once and writing p, m, v once. It
  runs on torch's own OpenMP threads, splitting the group's elements evenly among them, so a
  tensor of 10 elements costs a table row, not a kernel launch. It is compiled once per
  machine (well under a second with a C compiler) and cached on disk.

The arithmetic is that of :mod:`adamlab.rules`, operation for operation (``m / (1 - beta1^t)``,
``sqrt(v / (1 - beta2^t))``, ...), with no fused multiply-adds, so the flat path agrees with the
rules to the last few bits. It runs on the CPU, for float32 and float64 tensors; everything else
(a GPU tensor, a half-precision one, a non-contiguous one) is handed to the foreach rung.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from array import array
from collections.abc import Sequence
from pathlib import Path

import torch

Tensors = Sequence[torch.Tensor]

#: The one C loop of the flat rung, written once for ``scalar_t``; :func:`library` makes a float
#: and a double copy of it. Each line is the line of ``adamlab.rules`` named in its comment.
KERNEL_SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <omp.h>

/* The maximum as torch.maximum takes it: a NaN on either side propagates. */
static inline scalar_t max_SUF(scalar_t a, scalar_t b) { return (a != a || a > b) ? a : b; }

/* Algorithm 1 on n consecutive elements of one tensor; c1 = 1 - beta1^t, c2 = 1 - beta2^t. */
static inline __attribute__((always_inline)) void adam_span_SUF(
    int64_t n, scalar_t *restrict p, const scalar_t *restrict g, scalar_t *restrict m,
    scalar_t *restrict v, scalar_t *restrict vmax, const scalar_t *h, scalar_t c1, scalar_t c2,
    const int l2, const int decoupled, const int amsgrad)
{
    const scalar_t beta1 = h[0], beta2 = h[1], one_m_beta1 = h[2], one_m_beta2 = h[3],
                   eps = h[4], wd = h[5], neg_lr = h[6], lr_wd = h[7], sign = h[8];
    for (int64_t i = 0; i < n; i++) {
        scalar_t gi = sign * g[i];                            /* maximize: -g             */
        if (l2) gi = gi + wd * p[i];                          /* L2: g + wd * theta       */
        const scalar_t mi = beta1 * m[i] + one_m_beta1 * gi;  /* m = b1 m + (1 - b1) g    */
        scalar_t vi = beta2 * v[i] + one_m_beta2 * gi * gi;   /* v = b2 v + (1 - b2) g g  */
        m[i] = mi;
        v[i] = vi;
        if (amsgrad) { vi = max_SUF(vmax[i], vi); vmax[i] = vi; }  /* v_max = max(v_max, v) */
        scalar_t update = neg_lr * (mi / c1) / (SQRT(vi / c2) + eps);  /* -lr m^ / (sqrt v^ + eps) */
        if (decoupled) update = update - lr_wd * p[i];        /* AdamW: - lr wd theta     */
        p[i] = p[i] + update;
    }
}

/* Algorithm 2 (AdaMax) on n consecutive elements; neg_step = -lr / (1 - beta1^t). */
static inline __attribute__((always_inline)) void adamax_span_SUF(
    int64_t n, scalar_t *restrict p, const scalar_t *restrict g, scalar_t *restrict m,
    scalar_t *restrict u, const scalar_t *h, scalar_t neg_step, const int l2, const int eps_in_max)
{
    const scalar_t beta1 = h[0], beta2 = h[1], one_m_beta1 = h[2], eps = h[4], wd = h[5],
                   sign = h[8];
    for (int64_t i = 0; i < n; i++) {
        scalar_t gi = sign * g[i];
        if (l2) gi = gi + wd * p[i];
        const scalar_t mi = beta1 * m[i] + one_m_beta1 * gi;
        m[i] = mi;
        scalar_t denom;
        if (eps_in_max) { denom = max_SUF(beta2 * u[i], FABS(gi) + eps); u[i] = denom; }
        else { const scalar_t ui = max_SUF(beta2 * u[i], FABS(gi)); u[i] = ui; denom = ui + eps; }
        p[i] = p[i] + neg_step * mi / denom;
    }
}

/* The step count t of tensor k for this update: steps[k] raised by one first if advance. */
static inline double step_count_SUF(void *steps, int steps_double, int advance, int64_t k)
{
    double t = steps_double ? ((double *)steps)[k] : ((float *)steps)[k];
    if (advance) {
        t += 1;
        if (steps_double) ((double *)steps)[k] = t; else ((float *)steps)[k] = (float)t;
    }
    return t;
}

/* The first of the nseg tensors that ends after element lo (binary search over start). */
static inline int64_t first_tensor_SUF(const int64_t *start, int64_t nseg, int64_t lo)
{
    int64_t a = 0, b = nseg;
    while (a < b) {
        const int64_t mid = (a + b) / 2;
        if (start[mid + 1] <= lo) a = mid + 1; else b = mid;
    }
    return a;
}

/* One step for a table of nseg tensors. Row k: the tensor's elements are numbers start[k] to
   start[k + 1] - 1 of all the tensors laid end to end, and its addresses are p[k], g[k], m[k],
   v[k] (and vmax[k]); g[k] == 0 means no gradient: the tensor is skipped and its step count
   stays put. steps[k] is the tensor's step count (float or double); with advance != 0 it is
   raised by one here, otherwise it already holds this update's t. The threads split the range
   [0, start[nseg]) evenly, whatever the tensors. */
int adam_step_SUF(int64_t nseg, const int64_t *start, const uint64_t *pp,
                  const uint64_t *gp, const uint64_t *mp, const uint64_t *vp, const uint64_t *vmaxp,
                  void *steps, int steps_double, int advance, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int decoupled, int amsgrad,
                  int maximize, int nthreads)
{
    scalar_t *c = malloc(2 * (nseg > 0 ? nseg : 1) * sizeof(scalar_t));
    if (!c) return 1;
    for (int64_t k = 0; k < nseg; k++) {
        if (!gp[k]) continue;
        const double t = step_count_SUF(steps, steps_double, advance, k);
        c[2 * k] = (scalar_t)(1 - pow(beta1, t));
        c[2 * k + 1] = (scalar_t)(1 - pow(beta2, t));
    }
    const int l2 = weight_decay != 0 && !decoupled, dec = weight_decay != 0 && decoupled;
    const scalar_t h[9] = {beta1, beta2, 1 - beta1, 1 - beta2, eps, weight_decay, -lr,
                           lr * weight_decay, maximize ? -1 : 1};
    const int64_t total = start[nseg];
    #pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        const int64_t nth = omp_get_num_threads(), tid = omp_get_thread_num();
        /* this thread's share: elements lo..hi-1 of the tensors laid end to end */
        const int64_t lo = total * tid / nth, hi = total * (tid + 1) / nth;
        for (int64_t k = first_tensor_SUF(start, nseg, lo); k < nseg && start[k] < hi; k++) {
            if (!gp[k]) continue;
            const int64_t s = lo > start[k] ? lo - start[k] : 0;
            const int64_t e = (hi < start[k + 1] ? hi : start[k + 1]) - start[k];
            if (s >= e) continue;
            scalar_t *p = (scalar_t *)pp[k] + s, *m = (scalar_t *)mp[k] + s, *v = (scalar_t *)vp[k] + s;
            const scalar_t *g = (const scalar_t *)gp[k] + s;
            scalar_t *vm = amsgrad ? (scalar_t *)vmaxp[k] + s : 0;
            const scalar_t c1 = c[2 * k], c2 = c[2 * k + 1];
            /* constant flags: the compiler writes one loop per case, each with no branch */
            if (amsgrad) {
                if (l2) adam_span_SUF(e - s, p, g, m, v, vm, h, c1, c2, 1, 0, 1);
                else if (dec) adam_span_SUF(e - s, p, g, m, v, vm, h, c1, c2, 0, 1, 1);
                else adam_span_SUF(e - s, p, g, m, v, vm, h, c1, c2, 0, 0, 1);
            } else {
                if (l2) adam_span_SUF(e - s, p, g, m, v, vm, h, c1, c2, 1, 0, 0);
                else if (dec) adam_span_SUF(e - s, p, g, m, v, vm, h, c1, c2, 0, 1, 0);
                else adam_span_SUF(e - s, p, g, m, v, vm, h, c1, c2, 0, 0, 0);
            }
        }
    }
    free(c);
    return 0;
}

int adamax_step_SUF(int64_t nseg, const int64_t *start, const uint64_t *pp,
                    const uint64_t *gp, const uint64_t *mp, const uint64_t *up, void *steps,
                    int steps_double, int advance, double lr, double beta1, double beta2,
                    double eps, double weight_decay, int eps_in_max, int maximize, int nthreads)
{
    scalar_t *c = malloc((nseg > 0 ? nseg : 1) * sizeof(scalar_t));
    if (!c) return 1;
    for (int64_t k = 0; k < nseg; k++) {
        if (!gp[k]) continue;
        const double t = step_count_SUF(steps, steps_double, advance, k);
        c[k] = (scalar_t)(-(lr / (1 - pow(beta1, t))));  /* -(lr / (1 - beta1^t)) */
    }
    const int l2 = weight_decay != 0;
    const scalar_t h[9] = {beta1, beta2, 1 - beta1, 1 - beta2, eps, weight_decay, -lr, 0,
                           maximize ? -1 : 1};
    const int64_t total = start[nseg];
    #pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        const int64_t nth = omp_get_num_threads(), tid = omp_get_thread_num();
        const int64_t lo = total * tid / nth, hi = total * (tid + 1) / nth;
        for (int64_t k = first_tensor_SUF(start, nseg, lo); k < nseg && start[k] < hi; k++) {
            if (!gp[k]) continue;
            const int64_t s = lo > start[k] ? lo - start[k] : 0;
            const int64_t e = (hi < start[k + 1] ? hi : start[k + 1]) - start[k];
            if (s >= e) continue;
            scalar_t *p = (scalar_t *)pp[k] + s, *m = (scalar_t *)mp[k] + s, *u = (scalar_t *)up[k] + s;
            const scalar_t *g = (const scalar_t *)gp[k] + s;
            if (eps_in_max) {
                if (l2) adamax_span_SUF(e - s, p, g, m, u, h, c[k], 1, 1);
                else adamax_span_SUF(e - s, p, g, m, u, h, c[k], 0, 1);
            } else {
                if (l2) adamax_span_SUF(e - s, p, g, m, u, h, c[k], 1, 0);
                else adamax_span_SUF(e - s, p, g, m, u, h, c[k], 0, 0);
            }
        }
    }
    free(c);
    return 0;
}
"""

#: -O3 vectorizes the loop; -fno-math-errno lets sqrt vectorize (it only stops sqrt from setting
#: errno); -ffp-contract=off forbids fused multiply-adds, which would round differently from
#: torch's separate multiply and add. No -ffast-math: it would reorder the arithmetic.
CFLAGS = ["-O3", "-march=native", "-fno-math-errno", "-ffp-contract=off", "-fopenmp", "-fPIC",
          "-shared"]  # fmt: skip

#: below this many elements a step runs on one thread, as torch's own at::parallel_for does
GRAIN = 32768

_TYPES = {torch.float32: ("f32", "float", "sqrtf", "fabsf"), torch.float64: ("f64", "double", "sqrt", "fabs")}
_LIB: ctypes.CDLL | None = None
_LIB_ERROR: str | None = None


def source() -> str:
    """The C source that :func:`library` compiles: the kernel once for float, once for double."""
    parts = []
    for suffix, ctype, sqrt, fabs in _TYPES.values():
        parts.append(KERNEL_SOURCE.replace("_SUF", "_" + suffix).replace("scalar_t", ctype)
                     .replace("SQRT(", sqrt + "(").replace("FABS(", fabs + "("))  # fmt: skip
    return "\n".join(parts)


def compiler() -> str | None:
    """The C compiler to use: ``$CC`` if set, else the first of gcc, cc, clang on the PATH."""
    for cc in (os.environ.get("CC"), "gcc", "cc", "clang"):
        if cc and shutil.which(cc):
            return cc
    return None


def cache_dir() -> Path:
    """Where the compiled kernel is kept: ``$ADAMLAB_CACHE_DIR``, else a folder ``adamlab`` in
    ``$TORCHINDUCTOR_CACHE_DIR`` (so that emptying torch's compile cache empties this one too),
    else ``~/.cache/adamlab``."""
    if os.environ.get("ADAMLAB_CACHE_DIR"):
        return Path(os.environ["ADAMLAB_CACHE_DIR"])
    if os.environ.get("TORCHINDUCTOR_CACHE_DIR"):
        return Path(os.environ["TORCHINDUCTOR_CACHE_DIR"]) / "adamlab"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "adamlab"


def _machine_tag() -> str:
    # -march=native code runs only on this kind of processor: the cache key names it
    tag = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))]
        tag += "".join(sorted(set(lines)))
    except OSError:
        pass
    return tag


def library() -> ctypes.CDLL:
    """Compile the kernel (once per machine; cached on disk) and load it.

    Raises ``RuntimeError`` naming the reason when there is no C compiler or it fails.
    """
    global _LIB, _LIB_ERROR
    if _LIB is not None:
        return _LIB
    if _LIB_ERROR is not None:
        raise RuntimeError(_LIB_ERROR)
    cc = compiler()
    if cc is None:
        _LIB_ERROR = "the flat Adam step needs a C compiler (gcc, cc or clang, or $CC); none found"
        raise RuntimeError(_LIB_ERROR)
    src = source()
    key = hashlib.sha256("\n".join([src, cc, *CFLAGS, _machine_tag()]).encode()).hexdigest()[:20]
    folder = cache_dir()
    path = folder / f"flat_step_{key}.so"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            c_file, so_file = Path(tmp) / "flat_step.c", Path(tmp) / "flat_step.so"
            c_file.write_text(src)
            done = subprocess.run([cc, *CFLAGS, str(c_file), "-o", str(so_file), "-lm"],
                                  capture_output=True, text=True)  # fmt: skip
            if done.returncode != 0:
                _LIB_ERROR = f"compiling the flat Adam step failed:\n{done.stderr[-2000:]}"
                raise RuntimeError(_LIB_ERROR)
            os.replace(so_file, path)  # atomic: a concurrent process sees all of it or none
    lib = ctypes.CDLL(str(path))
    i64, ptr, i32, f64 = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int, ctypes.c_double
    for suffix, *_ in _TYPES.values():
        fn = getattr(lib, f"adam_step_{suffix}")
        fn.argtypes = [i64] + [ptr] * 7 + [i32, i32] + [f64] * 5 + [i32] * 4
        fn.restype = i32
        fn = getattr(lib, f"adamax_step_{suffix}")
        fn.argtypes = [i64] + [ptr] * 6 + [i32, i32] + [f64] * 5 + [i32] * 3
        fn.restype = i32
    _LIB = lib
    return lib


def available() -> bool:
    """Whether the flat step can run here (a C compiler that builds the kernel)."""
    try:
        library()
    except RuntimeError:
        return False
    return True


def _threads(total: int) -> int:
    return torch.get_num_threads() if total >= GRAIN else 1


def _addresses(tensors) -> array:
    return array("Q", [0 if t is None else t.data_ptr() for t in tensors])


def _call(kind, dtype, rows, steps, advance, *, lr, beta1, beta2, eps, weight_decay=0.0,
          decoupled_weight_decay=False, amsgrad=False, maximize=False, eps_in_max=True):  # fmt: skip
    """Run the kernel on a table: ``rows`` holds the start of each tensor and the addresses."""
    start, addr = rows
    suffix = _TYPES[dtype][0]
    nseg = len(addr[0])
    lib = library()
    total = int(start[nseg])
    nt = _threads(total)
    steps_double = int(steps.dtype == torch.float64)
    common = [a.buffer_info()[0] for a in addr]
    if kind == "adamax":
        rc = getattr(lib, f"adamax_step_{suffix}")(
            nseg, start.buffer_info()[0], *common, steps.data_ptr(),
            steps_double, advance, lr, beta1, beta2, eps, weight_decay, int(eps_in_max),
            int(maximize), nt)  # fmt: skip
    else:
        if len(addr) == 4:
            common.append(None)
        rc = getattr(lib, f"adam_step_{suffix}")(
            nseg, start.buffer_info()[0], *common, steps.data_ptr(),
            steps_double, advance, lr, beta1, beta2, eps, weight_decay,
            int(bool(decoupled_weight_decay)), int(bool(amsgrad)), int(bool(maximize)), nt)  # fmt: skip
    if rc != 0:
        raise MemoryError("the flat Adam step could not allocate its table of step sizes")


def _starts(sizes: Sequence[int]) -> array:
    """Where each tensor starts when all are laid end to end, and (last) their total."""
    start = [0]
    for n in sizes:
        start.append(start[-1] + n)
    return array("q", start)


def _check(params, tensors):
    if not params:
        return
    dtype, device = params[0].dtype, params[0].device
    if device.type != "cpu" or dtype not in _TYPES:
        raise ValueError(f"the flat step runs on CPU float32/float64 tensors, got {dtype} on {device}")
    for t in tensors:
        if t is None:
            continue
        if t.dtype != dtype or t.device != device or not t.is_contiguous():
            raise ValueError("the flat step needs contiguous tensors of one device and dtype")


# --------------------------------------------------------------------------------------
# The rung's functions, with the signature of adamlab.fast's other rungs
# --------------------------------------------------------------------------------------


def adam_flat_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_avg_sqs: Tensors,
    max_exp_avg_sqs: Tensors | None,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
) -> None:
    """:func:`adamlab.fast.adam_inplace_` as one call of the C kernel, for lists of tensors.

    A gradient may be None: that tensor is skipped. The optimizer's flat path
    (:func:`optimizer_step_`) calls the same kernel on its flat state.
    """
    from .fast import _bias_corrections, _check_lists

    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs, steps=steps)
    if not params:
        return
    _bias_corrections(steps, beta1, beta2)  # checks that steps start at 1
    lists = [params, grads, exp_avgs, exp_avg_sqs] + ([max_exp_avg_sqs] if amsgrad else [])
    _check(params, [t for xs in lists for t in xs])
    rows = (_starts([p.numel() for p in params]), [_addresses(xs) for xs in lists])
    _call("adam", params[0].dtype, rows, torch.tensor([float(t) for t in steps], dtype=torch.float64),
          0, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
          decoupled_weight_decay=decoupled_weight_decay, amsgrad=amsgrad, maximize=maximize)  # fmt: skip


def adamax_flat_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_infs: Tensors,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    eps_in_max: bool = True,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """:func:`adamlab.fast.adamax_inplace_` as one call of the C kernel."""
    from .fast import _bias_corrections, _check_lists

    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_infs=exp_infs, steps=steps)
    if not params:
        return
    _bias_corrections(steps, beta1, beta2)
    lists = [params, grads, exp_avgs, exp_infs]
    _check(params, [t for xs in lists for t in xs])
    rows = (_starts([p.numel() for p in params]), [_addresses(xs) for xs in lists])
    _call("adamax", params[0].dtype, rows, torch.tensor([float(t) for t in steps], dtype=torch.float64),
          0, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
          eps_in_max=eps_in_max, maximize=maximize)  # fmt: skip


# --------------------------------------------------------------------------------------
# The optimizer's flat state
# --------------------------------------------------------------------------------------

ALIGN = 16  # elements: each tensor's state starts on a 64-byte boundary (a cache line)


class FlatState:
    """The state of one parameter group's CPU float32 or float64 tensors, in flat buffers.

    ``buffers[key]`` is one contiguous tensor per state key (``exp_avg``, ...); tensor i's state
    is ``buffers[key][offset[i] : offset[i] + numel_i]``, and ``optimizer.state[p][key]`` is
    that slice viewed in p's shape. ``steps[i]`` is p's step count, and ``state[p]["step"]``
    a 0-d view of it. Each tensor's slice starts on a 64-byte boundary, so the buffers hold at
    most ALIGN - 1 unused elements per tensor. Existing per-parameter state (from a checkpoint,
    or from another path) is copied in when the layout is built.
    """

    def __init__(self, opt, params: list, keys: tuple[str, ...]):
        self.params = params
        self.keys = keys
        dtype = params[0].dtype
        self.dtype = dtype
        sizes = [p.numel() for p in params]
        offsets, total = [], 0
        for n in sizes:
            offsets.append(total)
            total += -(-n // ALIGN) * ALIGN
        self.offsets = offsets
        self.buffers = {key: torch.zeros(total, dtype=dtype) for key in keys}
        # torch keeps 'step' as float32 (float64 only when that is the default dtype)
        step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        self.steps = torch.zeros(len(params), dtype=step_dtype)
        self.start = _starts(sizes)
        self.views = []
        for i, p in enumerate(params):
            state = opt.state[p]
            views = {key: self.buffers[key][offsets[i] : offsets[i] + sizes[i]].view(p.shape)
                     for key in keys}  # fmt: skip
            if state:  # existing state: copy it in (AMSGrad switched on later starts v_max at v)
                for key in keys:
                    old = state.get(key)
                    if old is None and key == "max_exp_avg_sq":
                        old = state["exp_avg_sq"]
                    views[key].copy_(old)
                self.steps[i] = float(state["step"])
            state.update(views)
            state["step"] = self.steps[i]
            self.views.append(state[keys[0]])
        self.states = [opt.state[p] for p in params]
        self.state_obj = opt.state
        self.p_addr = [p.data_ptr() for p in params]
        self.state_addr = [_addresses([self.buffers[key][o:] for o in offsets]) for key in keys]
        self.p_table = array("Q", self.p_addr)

    def still_valid(self, opt) -> bool:
        """False if anything moved under the layout: a parameter's storage (``p.data = ...``,
        ``model.to(...)``), the optimizer's state (``load_state_dict``, another path's step)."""
        return (opt.state is self.state_obj
                and [p.data_ptr() for p in self.params] == self.p_addr
                and all(s.get(self.keys[0]) is v for s, v in zip(self.states, self.views)))  # fmt: skip


def _state_keys(group: dict, kind: str) -> tuple[str, ...]:
    if kind == "adamax":
        return ("exp_avg", "exp_inf")
    return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())


def _plan(opt, group: dict, kind: str):
    """Sort a group's parameters: flat layouts (one per dtype) and the rest (foreach rung).

    A parameter joins a layout once it has state or a gradient; until then it waits, as
    torch's optimizers create a parameter's state at its first gradient.
    """
    keys = _state_keys(group, kind)
    by_dtype, rest, waiting = {}, [], []
    for p in group["params"]:
        if p.grad is not None and p.grad.is_sparse:
            raise RuntimeError(f"{type(opt).__name__} does not take sparse gradients; use dense "
                               "gradients or torch.optim.SparseAdam.")  # fmt: skip
        if p.device.type != "cpu" or p.dtype not in _TYPES or not p.is_contiguous():
            rest.append(p)
        elif p.grad is None and not opt.state.get(p):
            waiting.append(p)
        else:
            by_dtype.setdefault(p.dtype, []).append(p)
    flats = [FlatState(opt, ps, keys) for ps in by_dtype.values()]
    return {"params": group["params"], "ids": [id(p) for p in group["params"]], "keys": keys,
            "flats": flats, "rest": rest, "waiting": waiting}  # fmt: skip


def optimizer_step_(opt: torch.optim.Optimizer, group: dict, kind: str) -> None:
    """One flat step of ``group`` for an :mod:`adamlab.optim` ``Adam``/``AdamW``/``Adamax``."""
    # keyed by the group's list of parameters, which a copy of the group dict shares
    plans = opt.__dict__.setdefault("_adamlab_flat", {})
    plan = plans.get(id(group["params"]))
    if (plan is None or plan["params"] is not group["params"] or plan["keys"] != _state_keys(group, kind)
            or plan["ids"] != [id(p) for p in group["params"]]
            or any(p.grad is not None for p in plan["waiting"])
            or not all(f.still_valid(opt) for f in plan["flats"])):  # fmt: skip
        plan = plans[id(group["params"])] = _plan(opt, group, kind)
    beta1, beta2 = group["betas"]
    hyper = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                 weight_decay=group["weight_decay"], maximize=group["maximize"])  # fmt: skip
    if kind == "adamax":
        hyper["eps_in_max"] = group["eps_in_max"]
    else:
        hyper.update(amsgrad=group["amsgrad"], decoupled_weight_decay=group["decoupled_weight_decay"])
    for flat in plan["flats"]:
        grads = [p.grad for p in flat.params]
        for g in grads:
            if g is not None and not g.is_contiguous():  # e.g. a transposed tensor assigned to .grad
                raise RuntimeError("the flat Adam step needs contiguous gradients; call "
                                   "p.grad = p.grad.contiguous() or use impl='foreach'")  # fmt: skip
        addr = [flat.p_table, _addresses(grads), *flat.state_addr]
        _call(kind, flat.dtype, (flat.start, addr), flat.steps, 1, **hyper)
    if plan["rest"] or plan["waiting"]:
        from .fast import optimizer_step_ as per_tensor_step_

        others = [p for p in plan["rest"] + plan["waiting"] if p.grad is not None]
        if others:
            per_tensor_step_(opt, {**group, "params": others}, kind, "foreach")
