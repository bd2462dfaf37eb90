"""A training session: one generator/energy pair learning one dataset, step by step.

The `Run` owns everything mutable (models, optimisers, random streams, metric history), so the
command line and each browser session of the app simply hold one. It steps, pauses and resumes,
takes hyperparameter changes between steps, catches divergence, and hands out frozen numpy
`Frame`s (explorer/measures/probes.py) that the figures are drawn from.

With `ema` the run holds two generators: `generator`, the one trained, and the average of its
weights (models/ema.py), which everything shown or measured samples from (`sampling_generator`:
frames, evaluations, entropies, galleries, the densities view, model selection) and which is saved
as the pair's generator. A saved pair therefore holds the average alone; training a loaded pair
further starts both from it (as it restarts Adam: optimiser moments are not saved either).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from explorer.config.build import build_dataset, build_models, data_frame, data_record, pick_device, train_config
from explorer.config.options import (
    ABSENT_MEANS,
    LIVE_SETTINGS,
    Experiment,
    as_experiment,
    generator_noise,
    method_of,
    resolve,
)
from explorer.errors import UserInputError
from explorer.measures import entropies, evaluation, probes
from explorer.seeds import PROBE_NOISE_OFFSET, PROBE_OFFSET
from explorer.training.early_stopping import VALIDATE_EVERY, BestOnValidation, split_validation
from explorer.training.history import MetricHistory
from models import CheckpointError, TrainingState, load_pair, save_pair, train_step

POOL_BATCHES = 50      # data batches drawn at once: one numpy call per 50 iterations, not per iteration
PROBE_SAMPLES = 500    # fixed latent/real probe points shown in figures, so frames animate smoothly
LOADED_CHAINS = 250    # long-run Langevin chains shown for a saved Langevin pair (500 steps each)
FINAL_LR_FRACTION = 0.05
LAST_GOOD_EVERY = 100  # steps between restore points (a diverged run goes back at most this far)
# the coverage and NLL curves: evaluate_pair every PROGRESS_EVERY steps, lighter than the final one
PROGRESS_EVERY = 250
PROGRESS_SAMPLES = 1000
PROGRESS_RESOLUTION = 150
HISTORY_FILE_POINTS = 500   # rows a metric keeps in metrics.json
METRICS_NAME = "metrics.json"


class Run:
    def __init__(self, options: Experiment | dict, device: str = "cpu", dataset=None, frame=None):
        """A fresh run of `options` (an Experiment, or a mapping of settings checked into one).
        `dataset`: the data, already built (points a page has parsed); else built from the options.
        `frame`: the networks' (centre, unit) when already known (a saved pair's); else from the
        options and, with `standardise`, the training data (explorer/config/build.py data_frame)."""
        self.options = as_experiment(options)
        self.device = pick_device(device)
        seed = self.options["seed"]
        dataset = dataset if dataset is not None else build_dataset(self.options)
        self.dataset, validation = split_validation(dataset, seed)
        # small point sets: keep the pair with the best validation NLL (explorer/training/early_stopping.py)
        self.selector = BestOnValidation(validation, self.dataset.bounds) if validation is not None else None
        self.network_frame = frame if frame is not None else data_frame(self.options, self.dataset)
        self.energy, self.generator = build_models(self.options, self.dataset.dim, self.device, self.network_frame)
        self.state = TrainingState(self.energy, self.generator, self._train_config(), seed)
        self.data_rng = np.random.default_rng(seed)
        self._pool: torch.Tensor | None = None
        self._pool_next = 0
        self.probe_seed = seed + PROBE_OFFSET   # probes: their own stream, the same every run
        self.probe_real = self.dataset.sample(PROBE_SAMPLES, np.random.default_rng(self.probe_seed))
        self.history = MetricHistory()
        self.paused = False
        self.chains_live = False   # Langevin sampler: have the persistent chains been run yet?
        self.warning: str | None = None
        self.steps_per_second = 0.0
        self._last_good = self._copy_state()

    # ------------------------------------------------------------------ stepping
    @property
    def step(self) -> int:
        return self.state.step

    @property
    def done(self) -> bool:
        return self.step >= self.options["steps"]

    @property
    def sampling_generator(self):
        """The generator that samples: the average of the trained one's weights with `ema`, else itself."""
        return self.state.ema.model if self.state.ema is not None else self.generator

    def _train_config(self):
        return train_config(self.options, self.dataset, self.network_frame[1])   # the unit scales Langevin's step

    def _batch(self) -> torch.Tensor:
        size = self.options["batch_size"]
        if self._pool is None or self._pool_next + size > self._pool.shape[0]:
            pool = self.dataset.sample(size * POOL_BATCHES, self.data_rng)
            self._pool = torch.from_numpy(pool).to(self.device)
            self._pool_next = 0
        batch = self._pool[self._pool_next:self._pool_next + size]
        self._pool_next += size
        return batch

    def _scheduled_learning_rates(self) -> tuple[float, float]:
        """Constant, then linear decay over the last `lr_decay` of the run: the energy's to
        FINAL_LR_FRACTION, the generator's to `lr_final_generator`."""
        total, decay = self.options["steps"], self.options["lr_decay"]
        progress = 0.0
        if decay > 0:
            progress = min(1.0, max(0.0, (self.step / total - (1.0 - decay)) / decay))
        final_generator = self.options.get("lr_final_generator", FINAL_LR_FRACTION)
        return (self.options["lr_energy"] * (1.0 - (1.0 - FINAL_LR_FRACTION) * progress),
                self.options["lr_generator"] * (1.0 - (1.0 - final_generator) * progress))

    def advance(self, n: int, update: str = "both", record_every: int = 10) -> int:
        """Run up to n iterations (fewer at the end of the run or on divergence); returns how many.

        `update` = "energy" or "generator" steps one network alone (the app's single-step buttons);
        like both, it stops at the planned steps (more steps: raise them first).
        Losses are read back every `record_every` steps only, keeping host syncs off the hot path.
        """
        if self.paused or n <= 0:
            return 0
        start, done = time.perf_counter(), 0
        for _ in range(n):
            if self.done:
                break
            self.state.set_learning_rates(*self._scheduled_learning_rates())
            # losses are read every record_every steps, and at the last step of this call or of the
            # run (so a run never ends, and saves, unchecked); decided before the step, which may
            # then leave them out (the compiled step does: models/compiled_step.py)
            read = ((self.step + 1) % record_every == 0 or done + 1 == n or self.step + 1 >= self.options["steps"])
            step_metrics = train_step(self.state, self._batch(), update, losses=read)
            self.chains_live = True
            done += 1
            if read:
                values = {k: float(v) for k, v in step_metrics.items()}
                if not all(math.isfinite(v) for v in values.values()):
                    self._diverged(values)
                    break
                self._record(values)
            if self.selector is not None and update == "both" and (self.step % VALIDATE_EVERY == 0 or self.done):
                self._record({"validation_nll": self.selector.check(self.step, self.energy,
                                                                     self.sampling_generator)})
            # a Langevin-trained energy is evaluated with 500-step chains: 4x less often
            every = PROGRESS_EVERY * (4 if self.options["sampler"] == "langevin" else 1)
            if update == "both" and (self.step % every == 0 or self.done):
                self.evaluate(samples=PROGRESS_SAMPLES, resolution=PROGRESS_RESOLUTION, weights=False)
                self._record(self.entropy_record())
        if not self.paused:
            if all(torch.isfinite(p).all() for p in self._parameters()):
                # a restore point at most every LAST_GOOD_EVERY steps: copying both networks and
                # their optimisers after every short chunk of a live run cost speed (docs/speed.md)
                if self.step - self._last_good["step"] >= LAST_GOOD_EVERY or self.done:
                    self._last_good = self._copy_state()
            else:  # the last update itself broke a weight: its loss was still finite
                self._diverged({"parameters": float("nan")})
        elapsed = time.perf_counter() - start
        if done and elapsed > 0:
            self.steps_per_second = done / elapsed
        return done

    def _record(self, values: dict) -> None:
        self.history.record(self.step, values)

    def _parameters(self):
        return [*self.energy.parameters(), *self.generator.parameters()]

    def _copy_state(self) -> dict:
        langevin, ema = self.state.langevin, self.state.ema
        return {"energy": copy.deepcopy(self.energy.state_dict()),
                "generator": copy.deepcopy(self.generator.state_dict()), "step": self.step,
                "optimisers": copy.deepcopy(self.state.optimiser_states()),
                "chains": langevin.buffer.clone() if langevin is not None else None,
                "ema": ema.state_dict() if ema is not None else None,
                "langevin_step": self.energy.config.langevin_step}   # --step-acceptance's, adapted with the weights

    def _diverged(self, values: dict) -> None:
        """Restore the last good state, pause, and say what happened and what to try."""
        bad = ", ".join(k for k, v in values.items() if not math.isfinite(v))
        step = self.step
        good = self._last_good
        self.energy.load_state_dict(good["energy"])
        self.generator.load_state_dict(good["generator"])
        self.energy.config.langevin_step = good["langevin_step"]
        self.state.restore_optimisers(good["optimisers"])
        if good["chains"] is not None:  # diverged chains would break the run again at once
            self.state.langevin.buffer = good["chains"].clone()
        if good["ema"] is not None:     # and so would an average that took in the diverged weights
            self.state.ema.load_state_dict(copy.deepcopy(good["ema"]))
        self.state.estimators.clear()   # and so would a diverged critic: vera's and mi's state start afresh
        self.state.step = good["step"]
        self.history.truncate(good["step"])
        self.paused = True
        self.warning = (f"training diverged at step {step} ({bad} became NaN or infinite); restored step "
                        f"{good['step']} and paused. Try lower learning rates or a larger std.")

    # ------------------------------------------------------------------ control
    def resume(self) -> None:
        self.paused = False
        self.warning = None

    def reconfigure(self, options: Experiment) -> bool:
        """Take `options`' live settings (LIVE_SETTINGS) between steps: the training config is rebuilt
        from them by the function that built it at the start. Returns whether anything changed."""
        if self.options.live_settings() == options.live_settings():
            return False
        if generator_noise(self.options) != generator_noise(options):
            raise UserInputError(f"the estimator cannot change from {self.options['entropy']} to {options['entropy']} "
                                 "during a run: vera's generator has learned output noise, the others' has not; "
                                 "press Reset to start a new run")
        self.options = replace(self.options, **options.live_settings())
        self.state.config = self._train_config()
        return True

    def update_settings(self, **changes) -> None:
        """Change live hyperparameters between steps (see LIVE_SETTINGS); checked like any input."""
        for name in changes:
            if name not in LIVE_SETTINGS:
                raise UserInputError(f"{name} cannot change during a run; press Reset to apply it")
        self.reconfigure(self.options.changed(**changes))

    def finish(self) -> int | None:
        """End of a run: for small point sets, restore the pair with the best validation NLL
        and return its step; otherwise keep the last pair and return None."""
        return self.selector.restore(self.energy, self.sampling_generator) if self.selector else None

    # ------------------------------------------------------------------ read-outs
    def samples(self, n: int, seed: int) -> np.ndarray:
        """n samples of the model (with `refine`, refined: evaluation.model_samples)."""
        return evaluation.model_samples(self.energy, self.sampling_generator, self.options, n, seed,
                                        self.dataset.bounds)

    def evaluate(self, samples: int = 2500, seed: int = 0, resolution: int = evaluation.QUADRATURE_RESOLUTION,
                 record: bool = True, weights: bool = True) -> dict:
        result = evaluation.evaluate_pair(self.energy, self.sampling_generator, self.options, self.dataset,
                                          samples=samples, seed=seed, resolution=resolution, weights=weights)
        if record:
            self._record({k: float(result[k]) for k in ("modes_covered", "high_quality_fraction", "nll",
                                                         "classes_covered", "class_kl_uniform") if k in result})
        return result

    def entropy_record(self) -> dict:
        """The generator's grid entropy and each estimator's value now (explorer/measures/entropies.py);
        for the Langevin baseline, of its persistent chains once they have run. {} for digits."""
        langevin = self.state.langevin
        chains = langevin.buffer if langevin is not None and self.chains_live else None
        if langevin is not None and chains is None:
            return {}
        return entropies.entropy_record(self.energy, self.sampling_generator, self.options, self.probe_seed, chains)

    def frame(self, fine: bool = False, info: dict | None = None, arrows: bool = True,
              latent: bool = True) -> probes.Frame:
        """What the app draws now: probes of the current pair (explorer/measures/probes.py); `arrows` and
        `latent` (the -grad E field and the latent grid) only when they are shown."""
        return self.frame_maker(fine, info, arrows, latent, detached=False)()

    def frame_maker(self, fine: bool = False, info: dict | None = None, arrows: bool = True,
                    latent: bool = True, detached: bool = True) -> Callable[[], probes.Frame]:
        """`frame`'s work, to be done later: what it needs is read now (the caller holds the session's
        lock) and, `detached`, the networks are copied, so the frame can be made on another thread
        while training goes on (EnergyLab's refined, resampled samples take ~0.05 s a frame)."""
        history = self.history.arrays()
        langevin = self.state.langevin
        # the Langevin baseline: show its persistent chains, the negatives the energy is trained on
        # (a loaded pair has no chains yet: LOADED_CHAINS long-run chains from noise instead, as
        # evaluation runs them; fewer than the probe's 500, so that showing the pair takes < 1 s)
        chains = langevin.buffer[:PROBE_SAMPLES].cpu().numpy().copy() if langevin is not None and self.chains_live \
            else None
        count = PROBE_SAMPLES if langevin is None else LOADED_CHAINS
        energy, generator = self.energy, self.sampling_generator
        if detached:
            energy, generator = copy.deepcopy(energy), copy.deepcopy(generator)
        options, bounds, seed, real = self.options, self.dataset.bounds, self.probe_seed, self.probe_real
        step, total_steps = self.step, self.options["steps"]
        details = {"steps_per_second": self.steps_per_second, "device": self.device, "paused": self.paused,
                   "warning": self.warning, "sampler": self.options["sampler"], **(info or {})}

        def make() -> probes.Frame:
            fake = chains if chains is not None else evaluation.model_samples(energy, generator, options, count, seed,
                                                                               bounds)
            return probes.make_frame(step=step, total_steps=total_steps, energy=energy,
                                     generator=generator if options["sampler"] == "generator" else None,
                                     real=real, fake=fake, history=history, bounds=bounds, fine=fine,
                                     noise_seed=seed + PROBE_NOISE_OFFSET, arrows=arrows, latent=latent,
                                     info=details)
        return make

    # ------------------------------------------------------------------ persistence
    def history_record(self, max_points: int = HISTORY_FILE_POINTS) -> dict:
        """The metric history as JSON-ready [step, value] rows, thinned to at most max_points a metric."""
        return self.history.thinned(max_points)

    @classmethod
    def from_checkpoint(cls, folder: str, device: str = "cpu", points_path: str | None = None,
                        points=None) -> Run:
        """A run holding a saved pair (strictly loaded), its data and its metric history, at the
        step it was saved. Optimiser moments are not saved, so training it further restarts Adam.
        `points_path`: where the points of a `points` pair are now, when not at the saved path;
        `points`: their Dataset, when already read (a page's upload), so they are not read again."""
        energy, generator, config = load_pair(folder)
        saved = config.get("options")
        if not isinstance(saved, dict):
            raise CheckpointError(f"{folder}: config.json has no training options")
        if "unit" not in saved:  # saved before the option existed: the unit its networks were built with
            saved = {**saved, "unit": energy.config.unit}
        # an option saved before it existed was off then, whatever today's default
        saved = {**{name: value for name, value in ABSENT_MEANS.items() if name not in saved}, **saved}
        if "method" not in saved:   # a name for the settings above, all saved: the one they match
            saved = {**saved, "method": method_of(saved)}
        if points_path is not None and saved.get("dataset") == "points":
            saved = {**saved, "points": points_path}
        options = resolve(None, saved)
        # a standardised pair's frame is the one saved with its networks, not measured again
        frame = (energy.config.centre, energy.config.unit) if options["standardise"] else None
        run = cls(options, device=device, dataset=points if options["dataset"] == "points" else None, frame=frame)
        # the adapted Langevin step is a result of training, not a setting: only its presence must
        # match the options (--step-acceptance); the saved value is the one the pair samples with
        adapted = energy.config.langevin_step
        built = dataclasses.replace(run.energy.config, langevin_step=adapted)
        if (adapted is None) != (run.energy.config.langevin_step is None) or built != energy.config \
                or run.generator.config != generator.config:
            # the frame (centre) is not among the weights: a config that disagrees with its options is refused
            raise CheckpointError(f"{folder}: the networks in config.json do not match its training options")
        run.energy.config.langevin_step = adapted
        try:
            run.energy.load_state_dict(energy.state_dict(), strict=True)
            run.generator.load_state_dict(generator.state_dict(), strict=True)
            if run.state.ema is not None:   # the saved generator is the average: both start from it
                run.state.ema.model.load_state_dict(generator.state_dict(), strict=True)
        except RuntimeError as e:
            raise CheckpointError(f"{folder}: the weights do not fit the saved options: {e}") from None
        step = config.get("step", 0)
        run.state.step = step if isinstance(step, int) and step >= 0 else 0
        run.history = _read_history(os.path.join(folder, METRICS_NAME))
        run._last_good = run._copy_state()
        return run

    def save(self, folder: str, metrics: dict | None = None, step: int | None = None) -> None:
        """Write the pair; `step` is the step its weights come from (default: the current one).
        With `ema` the generator saved is the average (sampling_generator), the one that samples."""
        extra = {"options": dict(self.options), "data": data_record(self.dataset),
                 "step": self.step if step is None else step}
        if metrics is not None:
            extra["metrics"] = metrics
        save_pair(folder, self.energy, self.sampling_generator, extra)


def _read_history(path: str) -> MetricHistory:
    """The "history" of a metrics.json, if there is a well-formed one; else an empty history."""
    try:
        with open(path) as f:
            history = json.load(f).get("history", {})
    except (OSError, ValueError, AttributeError):
        return MetricHistory()
    clean = {}
    for name, rows in history.items() if isinstance(history, dict) else ():
        try:
            clean[str(name)] = [(int(s), float(v)) for s, v in rows]
        except (TypeError, ValueError):
            continue
    return MetricHistory(clean)
