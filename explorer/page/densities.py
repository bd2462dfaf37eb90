"""The Densities tab of a session's current pair: probe the models under the session's lock, then
compute and draw in numpy (explorer/measures/densities.py, explorer/measures/entropies.py,
explorer/figures/densities.py).

Works the same on a pretrained pair, a paused run or one training right now: the lock is held
only to copy the two networks and the history (a few ms); the landscape, the samples and
everything after are computed on the copies while training goes on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from explorer.errors import UserInputError
from explorer.figures.densities import NOT_2D, SCALES, densities_figure, entropy_figure, kl_table, not_2d_figure
from explorer.measures import densities, entropies
from explorer.training.live import LiveSession

NO_HISTORY_NOTE = ("this pair's saved history has no entropy record (it was trained before runs kept one):<br>"
                   "only the current step is shown; a run trained now records it every 250 steps")
FIRST_RECORD_NOTE = "the current step only: a run records these at its progress evaluations (every 250 steps)"


@dataclass
class DensityState:
    """What the tab remembers for a session: p_data of the current dataset (it never changes
    during a run), a loaded Langevin pair's chains (seconds to run), and what was drawn last.
    Runs and datasets are held, not their id()s, which a new object may reuse."""
    data_cache: list = field(default_factory=list)
    chains: tuple = ()       # (dataset, step, (samples, what)) of a loaded Langevin pair
    drawn: tuple = ()        # (run, step, scale, resolution) of the last drawing


@dataclass(frozen=True)
class DensityTab:
    densities: dict          # Plotly figure (dict-like)
    entropy: dict
    table: str               # markdown: the KLs, their directions, how each density is obtained
    seconds: float


def _probe(pair: densities.PairCopy, state: DensityState, resolution: int) -> dict:
    """p_E's landscape and the model's samples; a loaded Langevin pair's long-run chains (seconds
    to run) are kept for its step."""
    samples = None
    if pair.generator is None and pair.chains is None:
        if state.chains[:2] != (pair.dataset, pair.step):
            state.chains = (pair.dataset, pair.step, densities.model_samples(pair))
        samples = state.chains[2]
    else:
        state.chains = ()
    return densities.probe_pair(pair, resolution, samples)


def density_tab(session: LiveSession, state: DensityState, scale: str = "log density",
                resolution: int | None = None) -> DensityTab:
    """The tab's two figures and its table for the session's current pair. Digits (not 2-D) get
    a figure and a table that say this view is for 2-D data. `resolution`: grid cells per side;
    by default densities.TRAINING_RESOLUTION while the session trains, else densities.RESOLUTION.
    The session's lock is held only to copy the pair and its history (a few ms)."""
    started = time.perf_counter()
    run = session.run
    if resolution is None:
        resolution = densities.TRAINING_RESOLUTION if session.training else densities.RESOLUTION
    if run is None:
        raise UserInputError("no pair yet: choose a pretrained pair or press Train")
    if scale not in SCALES:
        raise UserInputError(f"show must be one of {', '.join(SCALES)}, got {scale!r}")
    if run.dataset.dim != 2:
        figure = not_2d_figure()
        state.drawn = (run, run.step, scale, resolution)
        return DensityTab(figure, not_2d_figure(), NOT_2D,
                          time.perf_counter() - started)
    with session.lock:
        pair = densities.copy_pair(run)
        history = {k: tuple(zip(*v, strict=True)) for k, v in run.history.items() if k.startswith("entropy_") and v}
    probe = _probe(pair, state, resolution)
    current, note = None, None
    if "entropy_grid" not in history:
        # a pair whose saved history predates the record: the current point only, never the past
        samples = torch.as_tensor(probe["samples"][:entropies.ENTROPY_SAMPLES], dtype=torch.float32)
        current = entropies.entropy_values(samples, pair.energy, pair.generator, int(pair.options["batch_size"]))
        note = FIRST_RECORD_NOTE if session.source == "live run" else NO_HISTORY_NOTE
    view = densities.density_view(probe, pair.dataset, state.data_cache)
    state.drawn = (run, pair.step, scale, resolution)
    return DensityTab(densities_figure(view, scale),
                      entropy_figure(history, current, pair.step, pair.options["steps"], note),
                      kl_table(view), time.perf_counter() - started)


def needs_redraw(session: LiveSession, state: DensityState, scale: str) -> bool:
    """A timer tick redraws only when the pair, its step or the grid it deserves changed since the
    last drawing (so the last, fine drawing comes once training stops)."""
    run = session.run
    if run is None:
        return False
    resolution = densities.TRAINING_RESOLUTION if session.training else densities.RESOLUTION
    drawn = state.drawn
    return not (len(drawn) == 4 and drawn[0] is run and drawn[1:] == (run.step, scale, resolution))
