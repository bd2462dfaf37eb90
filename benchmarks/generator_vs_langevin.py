"""Generator against Langevin negatives on the ring: cost per iteration, training time until the
quality bar (every mode, 80 % high-quality samples: VEEGAN's definitions, explorer/measures/metrics.py),
and samples per second at that quality. Same networks, same data, same seed, same process.

While training, each method is judged on the samples it has without extra work: G(z) for the
generator (2,500 fresh latents), the persistent chains for Langevin (2,500 of the buffer, the
negatives it trains on). Sampling afresh at the bar: G(z) again, against Langevin chains started
from uniform noise over the data box and run until their samples meet the bar (checked every
SAMPLE_CHECK steps, up to the app's LANGEVIN_EVAL_STEPS), the way explorer/measures/evaluation.py samples
a Langevin-trained energy.
"""
from __future__ import annotations

import numpy as np
import torch

from benchmarks import flops
from explorer.measures import metrics
from explorer.measures.evaluation import LANGEVIN_EVAL_STEPS, model_samples, uniform_in_box
from explorer.training.run import Run
from models import langevin_chain, train_step

MODES_NEEDED = 1.0           # share of modes covered
QUALITY_NEEDED = 0.8         # high-quality fraction (benchmarks/headline.py asks the 0.9)
EVAL_SAMPLES = 2500
SAMPLE_CHECK = 25            # Langevin sampling afresh: steps between quality checks


def quality(samples: np.ndarray, dataset, needed: float = QUALITY_NEEDED) -> dict:
    coverage = metrics.mode_coverage(samples, dataset.mixture.centers, dataset.mixture.std)
    coverage["met"] = bool(coverage["modes_covered"] >= MODES_NEEDED * coverage["modes_total"]
                           and coverage["high_quality_fraction"] >= needed)
    return coverage


def current_samples(run: Run, seed: int = 0) -> np.ndarray:
    langevin = run.state.langevin
    if langevin is None:
        return run.samples(EVAL_SAMPLES, seed)
    index = torch.linspace(0, langevin.buffer.shape[0] - 1, EVAL_SAMPLES).long()
    return langevin.buffer[index.to(langevin.buffer.device)].cpu().numpy()


def time_to_quality(options: dict, device: str, cap_seconds: float, every: int = 50,
                    needed: float = QUALITY_NEEDED) -> dict:
    """Train with EnergyLab's step (and the run's learning-rate schedule) in chunks of `every`
    iterations, judging quality after each, until the bar is met, the run ends or `cap_seconds`
    of training (CPU time) have passed. Evaluation time is not counted."""
    clock = flops.Clock(device)
    run = Run(options, device=device)
    cpu = wall = 0.0
    trace = []
    reached = None
    # the cap counts CPU time; wall-clock time is bounded too, at 4 times the cap, for a loaded machine
    while not run.done and cpu < cap_seconds and wall < 4 * cap_seconds:
        cpu0, wall0 = clock.now()
        for _ in range(min(every, options["steps"] - run.step)):
            run.state.set_learning_rates(*run._scheduled_learning_rates())
            train_step(run.state, run._batch())
        cpu1, wall1 = clock.now()
        cpu, wall = cpu + cpu1 - cpu0, wall + wall1 - wall0
        q = quality(current_samples(run), run.dataset, needed)
        trace.append([run.step, round(cpu, 3), q["modes_covered"], round(q["high_quality_fraction"], 4),
                      q["modes_total"]])
        if q["met"]:
            reached = {"step": run.step, "seconds": cpu, "wall_seconds": wall, **q}
            break
    return {"run": run, "reached": reached, "iterations": run.step, "seconds": cpu, "wall_seconds": wall,
            "seconds_per_iteration": cpu / max(run.step, 1), "trace": trace, "final": q if trace else None}


def generator_sampling(run: Run, device: str, needed: float = QUALITY_NEEDED) -> dict:
    """Samples per second of G(z), EVAL_SAMPLES at a time, and their quality (the same latents the
    quality was judged on while training)."""
    clock = flops.Clock(device)
    samples = current_samples(run)
    seconds = flops.best_time(lambda: run.samples(EVAL_SAMPLES, 0), clock, repeats=5, inner=5)
    return {"samples_per_second": EVAL_SAMPLES / seconds["cpu"], "steps": 0, **quality(samples, run.dataset, needed)}


def langevin_sampling(run: Run, device: str, max_steps: int = LANGEVIN_EVAL_STEPS, app_sampler: bool = True,
                      needed: float = QUALITY_NEEDED) -> dict:
    """Chains from uniform noise on the trained energy, SAMPLE_CHECK steps at a time, until their
    samples meet the bar or max_steps; then samples per second at that many steps. Also the app's
    own sampler (evaluation.model_samples, LANGEVIN_EVAL_STEPS steps) timed once."""
    clock = flops.Clock(device)
    energy, options = run.energy, run.options
    rng = torch.Generator(device=device).manual_seed(1)
    x = uniform_in_box(EVAL_SAMPLES, 2, run.dataset.bounds, rng)
    energy.eval()
    steps, cpu, q = 0, 0.0, None
    try:
        while steps < max_steps:
            cpu0, _ = clock.now()
            x = langevin_chain(energy, x, SAMPLE_CHECK, options["langevin_step_size"], rng)
            cpu += clock.now()[0] - cpu0
            steps += SAMPLE_CHECK
            q = quality(x.cpu().numpy(), run.dataset, needed)
            if q["met"]:
                break
    finally:
        energy.train()
    result = {"samples_per_second": EVAL_SAMPLES / cpu, "steps": steps, **q, "app_steps": LANGEVIN_EVAL_STEPS,
              "app_samples_per_second": None, "app_quality": None}
    if app_sampler:
        cpu0, _ = clock.now()
        app_samples = model_samples(energy, run.generator, options, EVAL_SAMPLES, 1, run.dataset.bounds)
        result["app_samples_per_second"] = EVAL_SAMPLES / (clock.now()[0] - cpu0)
        result["app_quality"] = quality(app_samples, run.dataset, needed)
    return result


def bar_key(threshold: float) -> str:
    """How `bars` names a high-quality threshold: '0.8'."""
    return f"{threshold:.1f}"


def bars(trace: list, thresholds=(0.5, 0.7, 0.8)) -> dict:
    """From a time_to_quality trace: the first (step, CPU seconds) with every mode covered and at
    least each high-quality fraction; None where it was never reached."""
    found = {}
    for threshold in thresholds:
        row = next((r for r in trace if r[2] == r[4] and r[3] >= threshold), None)
        found[bar_key(threshold)] = None if row is None else {"step": row[0], "seconds": row[1]}
    return found


def compare(generator_options: dict, langevin_options: dict, device: str, cap_seconds: float,
            langevin_steps: tuple = (20, 60), every: int = 50, app_sampler: bool = True,
            needed: float = QUALITY_NEEDED) -> dict:
    """The generator and Langevin with each number of steps per iteration, side by side."""
    result = {}
    for name, options in [("generator", generator_options)] + [
            (f"langevin_{k}", {**langevin_options, "langevin_steps": k}) for k in langevin_steps]:
        trained = time_to_quality(options, device, cap_seconds, every, needed)
        run = trained.pop("run")
        if options["sampler"] == "generator":
            sampling = generator_sampling(run, device, needed)
        else:
            sampling = langevin_sampling(run, device, app_sampler=app_sampler,
                                         max_steps=LANGEVIN_EVAL_STEPS if app_sampler else SAMPLE_CHECK, needed=needed)
        thresholds = tuple(sorted({0.5, 0.7, 0.8, needed}))
        result[name] = {**trained, "bars": bars(trained["trace"], thresholds), "sampling": sampling,
                        "langevin_steps": options["langevin_steps"] if options["sampler"] == "langevin" else None}
    return result
