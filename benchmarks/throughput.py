"""Training throughput of the default 2-D configuration: EnergyLab's loop, the plain reference
loop, and the matrix-multiply floor, measured side by side in one process.

Timings are best-of-N windows, interleaved (reference, step, loop, floor, ...), so that another
process on a shared machine disturbs each of them alike; each is given in this thread's CPU time
(robust to that load) and in wall-clock time.
"""
from __future__ import annotations

from benchmarks import flops
from benchmarks.reference_loop import ReferenceLoop
from explorer.training.run import PROGRESS_EVERY, PROGRESS_RESOLUTION, PROGRESS_SAMPLES, Run
from models import train_step


def _window(fn, steps: int, clock: flops.Clock) -> tuple[float, float]:
    cpu0, wall0 = clock.now()
    fn(steps)
    cpu1, wall1 = clock.now()
    return (cpu1 - cpu0) / steps, (wall1 - wall0) / steps


def _between_progress(run: Run, n: int) -> None:
    """Step `run` past its next progress evaluation if one falls within the next n steps: windows
    lie between two evaluations (at multiples of PROGRESS_EVERY), which are timed apart."""
    if run.step % PROGRESS_EVERY + n >= PROGRESS_EVERY:
        run.advance(PROGRESS_EVERY - run.step % PROGRESS_EVERY + 1)


def throughput(options: dict, device: str, repeats: int = 5, window: int = 120) -> dict:
    """Seconds per iteration of: the reference loop; `train_step` on a Run's batches (the hot
    path); `Run.advance` as the command line and the app drive it (records, restore points, the
    learning-rate schedule; its progress evaluation every PROGRESS_EVERY steps timed apart); and
    the iteration's matrix products alone (the floor)."""
    clock = flops.Clock(device)
    run = Run(options, device=device)          # the hot path: train_step on the run's batches
    loop = Run(options, device=device)         # the whole loop: Run.advance
    reference = ReferenceLoop(options, run.dataset, device)
    batch = options["batch_size"]

    analytic = flops.iteration_flops(run.energy, run.generator, batch)
    counted = flops.counted_flops(run.state, run._batch())
    calls = flops.matmul_calls(run.state, run._batch())
    every_op = flops.aten_calls(run.state, run._batch())
    arithmetic_ops = [c for c in every_op if c[0].overloadpacket.__name__ in flops.ARITHMETIC]

    def hot(n):
        for _ in range(n):
            train_step(run.state, run._batch())

    def advance(n):
        loop.advance(n)

    def plain(n):
        for _ in range(n):
            reference.step()

    _between_progress(loop, 10)
    for fn in (hot, advance, plain):          # warm up: first calls allocate and pick kernels
        fn(10)
    best = {name: [float("inf"), float("inf")] for name in ("reference", "step", "loop")}
    floor = None
    kernels = {"arithmetic": float("inf"), "all": float("inf")}
    for _ in range(repeats):
        for name, fn in (("reference", plain), ("step", hot), ("loop", advance)):
            if fn is advance:
                _between_progress(loop, window)
            cpu, wall = _window(fn, window, clock)
            best[name] = [min(best[name][0], cpu), min(best[name][1], wall)]
        replay = flops.replay_rate(calls, device, repeats=2, inner=10)
        if floor is None or replay["seconds"] < floor["seconds"]:
            floor = replay
        for name, ops in (("arithmetic", arithmetic_ops), ("all", every_op)):
            kernels[name] = min(kernels[name], flops.replay_calls(ops, device, repeats=2, inner=10)["seconds"])
    progress = flops.best_time(lambda: (loop.evaluate(samples=PROGRESS_SAMPLES, resolution=PROGRESS_RESOLUTION,
                                                      record=False), loop.entropy_record()),
                               clock, repeats=min(repeats, 3), inner=1)
    total = analytic["total"]
    step_cpu, loop_cpu, reference_cpu = best["step"][0], best["loop"][0], best["reference"][0]
    loop_with_progress = loop_cpu + progress["cpu"] / PROGRESS_EVERY
    return {
        "flops_per_iteration": total,
        "flops_counted": counted,
        "flops_generator_step": analytic["generator_step"],
        "flops_energy_step": analytic["energy_step"],
        "flops_rule_of_thumb_x3": analytic["rule_of_thumb_x3"],
        "matmuls_per_iteration": floor["matmuls"],
        # the iteration's kernels replayed alone: its arithmetic (matmuls, activations, batch norm),
        # and every aten op it dispatches; what an eager loop with no overhead at all would take
        "arithmetic_seconds": kernels["arithmetic"], "arithmetic_ops": len(arithmetic_ops),
        "all_ops_seconds": kernels["all"], "ops_per_iteration": len(every_op),
        "floor_seconds": floor["seconds"],
        "floor_gflops": floor["gflops"],
        "step_seconds": step_cpu, "step_wall_seconds": best["step"][1],
        "loop_seconds": loop_cpu, "loop_wall_seconds": best["loop"][1],
        "reference_seconds": reference_cpu, "reference_wall_seconds": best["reference"][1],
        "progress_evaluation_seconds": progress["cpu"],
        "loop_with_progress_seconds": loop_with_progress,
        "step_per_second": 1 / step_cpu, "loop_per_second": 1 / loop_cpu, "reference_per_second": 1 / reference_cpu,
        "loop_with_progress_per_second": 1 / loop_with_progress,
        "step_gflops": total / step_cpu / 1e9, "loop_gflops": total / loop_cpu / 1e9,
        # fraction of what the floor allows: floor time / iteration time
        "loop_fraction_of_floor": floor["seconds"] / loop_cpu,
        "step_fraction_of_floor": floor["seconds"] / step_cpu,
        "loop_over_reference": reference_cpu / loop_cpu,
        "step_over_reference": reference_cpu / step_cpu,
        "loop_with_progress_over_reference": reference_cpu / loop_with_progress,
    }


def matmul_rates(device: str, hidden: int, batch: int, large: int = 2048, quick: bool = False) -> dict:
    """Sustained float32 matmul rate at the networks' main size (batch x hidden x hidden, and the
    energy step's 2 batch) and at a large size, where a CPU comes near its peak."""
    return {"network": flops.gemm_rate(batch, hidden, hidden, device),
            "network_2b": flops.gemm_rate(2 * batch, hidden, hidden, device),
            "large": flops.gemm_rate(large, large, large, device, repeats=1 if quick else 3, inner=1 if quick else 2)}


def compiled_throughput(options: dict, device: str, repeats: int = 5, window: int = 120) -> dict:
    """`Run.advance` with the whole iteration compiled (`--compile`, models/compiled_step.py)
    against eager `Run.advance` and the plain reference loop, interleaved as in `throughput`
    (best-of windows of this thread's CPU time); and the seconds the first 10 iterations take, which
    compile both of its graphs (this process's CPU time: the C++ compiler's own processes are not
    counted; and wall)."""
    import time

    clock = flops.Clock(device)
    eager, compiled = Run(options, device=device), Run({**options, "compile": True}, device=device)
    reference = ReferenceLoop(options, eager.dataset, device)
    from torch._dynamo.utils import counters
    hits = counters["inductor"]["fxgraph_cache_hit"]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    compiled.advance(10)   # compiles both graphs: steps 1-9 leave their losses out, step 10 reads its own
    compile_cpu, compile_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    # inductor keeps compiled graphs on disk (/tmp/torchinductor_$USER): a later process skips most of the work
    cache_hit = counters["inductor"]["fxgraph_cache_hit"] > hits
    if compiled.state.compiled_steps == 0:   # compiling failed (warned): nothing compiled to time
        return {"compiled": False, "compile_seconds": compile_wall, "compile_cpu_seconds": compile_cpu}

    def plain(n):
        for _ in range(n):
            reference.step()

    runs = {"eager": eager, "compiled": compiled}
    for run in runs.values():                   # warm up
        _between_progress(run, 10)
        run.advance(10)
    plain(10)
    best = {name: [float("inf"), float("inf")] for name in ("reference", "eager", "compiled")}
    for _ in range(repeats):
        for name in ("reference", "eager", "compiled"):
            if name == "reference":
                fn = plain
            else:
                _between_progress(runs[name], window)
                fn = runs[name].advance
            cpu, wall = _window(fn, window, clock)
            best[name] = [min(best[name][0], cpu), min(best[name][1], wall)]
    return {"compiled": compiled.state.compiled_steps > 0,
            "compiled_steps": compiled.state.compiled_steps,
            "compile_seconds": compile_wall, "compile_cpu_seconds": compile_cpu, "compile_cache_hit": cache_hit,
            "eager_loop_seconds": best["eager"][0], "eager_loop_wall_seconds": best["eager"][1],
            "loop_seconds": best["compiled"][0], "loop_wall_seconds": best["compiled"][1],
            "reference_seconds": best["reference"][0], "reference_wall_seconds": best["reference"][1],
            "speedup": best["eager"][0] / best["compiled"][0],
            "loop_over_reference": best["reference"][0] / best["compiled"][0],
            "eager_loop_over_reference": best["reference"][0] / best["eager"][0]}
