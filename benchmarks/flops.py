"""FLOPs of one training iteration, and the matrix-multiply rate they are measured against.

One iteration of the paper's method (models/training.py `train_step`), batch B:
  generator step: x = G(z); E(x) forward; backward to the generator only, so through E the
                  gradients w.r.t. activations alone, through G w.r.t. activations and weights;
  energy step:    G(z) again (no grad); E on the 2B real + generated points; backward to E's weights.
A linear layer y = x W^T (x: N x in, W: out x in) costs 2 N in out multiply-adds forward, and as
much again for each gradient autograd computes: dL/dx (unless x needs no gradient: the first
layer's input) and dL/dW (unless W is not being trained in this pass). Only matrix products are
counted (elementwise work and the prior's N x 2 matrix-vector product are left out), which is
what torch.utils.flop_counter.FlopCounterMode counts too: `counted_flops` checks the two agree.
"""
from __future__ import annotations

import time

import torch

from models import train_step
from models.energy import DeepEnergy
from models.generator import Generator


def linear_dims(module: torch.nn.Module) -> list[tuple[int, int]]:
    """(in, out) of every nn.Linear, in forward order."""
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, torch.nn.Linear)]


def pass_flops(dims: list[tuple[int, int]], n: int, grad_input: bool, grad_weight: bool,
               first_input_grad: bool = False) -> int:
    """Forward (+ the asked-for backward) matmul FLOPs of an MLP with these layers on n points."""
    total = 0
    for i, (fan_in, fan_out) in enumerate(dims):
        one = 2 * n * fan_in * fan_out
        total += one                                            # forward
        if grad_input and (i > 0 or first_input_grad):
            total += one                                        # dL/dx = dL/dy W
        if grad_weight:
            total += one                                        # dL/dW = dL/dy^T x
    return total


def iteration_flops(energy: DeepEnergy, generator: Generator, batch: int) -> dict:
    """Analytic matmul FLOPs of one `train_step` with the generator sampler (MLP energy)."""
    g, e = linear_dims(generator), linear_dims(energy)
    generator_step = (pass_flops(g, batch, grad_input=True, grad_weight=True)                # G, trained
                      + pass_flops(e, batch, grad_input=True, grad_weight=False, first_input_grad=True))
    energy_step = (pass_flops(g, batch, grad_input=False, grad_weight=False)                 # G(z) again
                   + pass_flops(e, 2 * batch, grad_input=True, grad_weight=True))
    forward_only = pass_flops(g, batch, False, False) * 2 + pass_flops(e, batch, False, False) * 3
    return {"generator_step": generator_step, "energy_step": energy_step,
            "total": generator_step + energy_step,
            # the rule of thumb "forward x 3" over every pass: an over-count here, since the first
            # layers need no input gradient, E's weights none in the generator step, and the second
            # G pass no backward at all
            "rule_of_thumb_x3": 3 * forward_only}


def counted_flops(state, real: torch.Tensor) -> int:
    """FLOPs of one real `train_step` as torch.utils.flop_counter counts them (the step is taken)."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        train_step(state, real)
    return int(counter.get_total_flops())


def matmul_calls(state, real: torch.Tensor) -> list:
    """Every mm / addmm one `train_step` makes, as (op, [(shape, stride), ...]) (the step is taken)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Recorder(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.calls = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket.__name__ in ("mm", "addmm"):
                self.calls.append((func, [(tuple(a.shape), tuple(a.stride())) for a in args
                                          if isinstance(a, torch.Tensor)]))
            return func(*args, **(kwargs or {}))

    with Recorder() as recorder:
        train_step(state, real)
    return recorder.calls


# The kernels that do an iteration's arithmetic: its matrix products, and its activations and batch
# norm, forward and backward. The rest of what train_step dispatches is views, transposes, small
# reductions, the losses and the optimiser's update over one flat buffer.
ARITHMETIC = frozenset({"mm", "addmm", "tanh", "softplus", "silu", "relu", "tanh_backward", "softplus_backward",
                        "silu_backward", "threshold_backward", "native_batch_norm", "native_batch_norm_backward"})


def aten_calls(state, real: torch.Tensor) -> list:
    """Every aten operation one `train_step` dispatches, below autograd, as (op, args, kwargs) with a
    copy of each tensor argument (same shape, strides and numbers); the step is taken."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_map

    def copy(value):
        return value.detach().clone() if isinstance(value, torch.Tensor) else value

    class Recorder(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.calls = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            self.calls.append((func, tree_map(copy, args), tree_map(copy, kwargs)))
            return func(*args, **kwargs)

    with Recorder() as recorder:
        train_step(state, real)
    return recorder.calls


def replay_calls(calls: list, device: str, repeats: int = 5, inner: int = 20) -> dict:
    """The recorded operations run again back to back, with nothing between them (no autograd, no
    Python of the training loop): what an eager iteration made of these kernels alone would take."""
    def replay():
        for func, args, kwargs in calls:
            func(*args, **kwargs)

    seconds = best_time(replay, Clock(device), repeats, inner)
    return {"seconds": seconds["cpu"], "wall_seconds": seconds["wall"], "calls": len(calls)}


def call_flops(calls: list) -> int:
    total = 0
    for _, tensors in calls:
        (m, k), (_, n) = tensors[-2][0], tensors[-1][0]
        total += 2 * m * n * k
    return total


class Clock:
    """Seconds of this thread's CPU time (robust on a shared machine) and of the wall clock; on a
    GPU the wall clock after a synchronize, since CPU time does not see the device's work."""

    def __init__(self, device: str):
        self.cuda = device == "cuda"

    def now(self) -> tuple[float, float]:
        if self.cuda:
            torch.cuda.synchronize()
            wall = time.perf_counter()
            return wall, wall
        return time.thread_time(), time.perf_counter()


def best_time(fn, clock: Clock, repeats: int = 5, inner: int = 20) -> dict:
    """Best-of-`repeats` seconds per call of fn (each repeat `inner` calls): the least disturbed
    by other processes. Returns cpu and wall seconds per call."""
    fn()
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        cpu0, wall0 = clock.now()
        for _ in range(inner):
            fn()
        cpu1, wall1 = clock.now()
        best_cpu, best_wall = min(best_cpu, (cpu1 - cpu0) / inner), min(best_wall, (wall1 - wall0) / inner)
    return {"cpu": best_cpu, "wall": best_wall}


def replay_rate(calls: list, device: str, repeats: int = 5, inner: int = 20) -> dict:
    """The iteration's own matrix products alone, same shapes and memory layouts, on random data:
    the time one iteration would take if it did nothing else (the floor at the networks' sizes)."""
    generator = torch.Generator(device=device).manual_seed(0)

    def tensor(shape, stride):
        size = 1 + sum((s - 1) * st for s, st in zip(shape, stride, strict=True))
        return torch.randn(size, generator=generator, device=device).as_strided(shape, stride)

    prepared = [(func, [tensor(*t) for t in tensors]) for func, tensors in calls]

    def replay():
        for func, args in prepared:
            func(*args)

    seconds = best_time(replay, Clock(device), repeats, inner)
    flops = call_flops(calls)
    return {"flops": flops, "seconds": seconds["cpu"], "wall_seconds": seconds["wall"],
            "gflops": flops / seconds["cpu"] / 1e9, "matmuls": len(calls)}


def gemm_rate(m: int, k: int, n: int, device: str, repeats: int = 5, inner: int | None = None) -> dict:
    """Sustained float32 GFLOP/s of one (m x k) @ (k x n) product, repeated."""
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(m, k, generator=generator, device=device)
    b = torch.randn(k, n, generator=generator, device=device)
    flops = 2 * m * k * n
    inner = inner or max(1, int(2e8 // flops))   # ~0.2 GFLOP a repeat, at least one product
    seconds = best_time(lambda: torch.mm(a, b), Clock(device), repeats, inner)
    return {"m": m, "k": k, "n": n, "gflops": flops / seconds["cpu"] / 1e9, "seconds": seconds["cpu"]}
