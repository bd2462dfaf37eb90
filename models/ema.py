"""An exponential moving average of the generator's weights, to sample from (not to train).

Averaging a GAN generator's iterates damps the oscillation of the two-player game, whose last
iterate wobbles around what the average holds steadier (Yazici et al., "The unusual effectiveness
of averaging in GAN training", 2019). After every generator step t = 0, 1, 2, ...

    theta_ema <- d_t * theta_ema + (1 - d_t) * theta,    d_t = min(decay, (1 + t) / (10 + t))

for every parameter theta and every batch-norm running mean and variance (the step counts are
copied). d_t's warm-up (as TensorFlow's ExponentialMovingAverage with num_updates) lets the average
leave the initial weights within tens of steps instead of ~1 / (1 - decay): with decay 0.999 a
300-step run would otherwise still show mostly its initialisation. The average starts as a copy of
the generator; its running statistics are averaged like the weights, an approximation of the
averaged network's own statistics that is usual in practice.
"""
from __future__ import annotations

import copy

import torch

from .generator import Generator


class GeneratorAverage:
    """`model`: the averaged generator (always in evaluation mode, no gradients)."""

    def __init__(self, generator: Generator, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"the average's decay must be between 0 and 1, got {decay!r}")
        self.decay = decay
        self.model = copy.deepcopy(generator).eval().requires_grad_(False)
        self.updates = 0   # t, the generator steps averaged so far

    def current_decay(self) -> float:
        """d_t = min(decay, (1 + t) / (10 + t))."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, generator: Generator) -> None:
        """theta_ema <- d_t theta_ema + (1 - d_t) theta, after a generator step."""
        d = self.current_decay()
        for average, theta in zip(self.model.parameters(), generator.parameters(), strict=True):
            average.mul_(d).add_(theta.detach(), alpha=1.0 - d)
        for average, bn in zip(self.model.batchnorm_layers(), generator.batchnorm_layers(), strict=True):
            average.running_mean.mul_(d).add_(bn.running_mean, alpha=1.0 - d)
            average.running_var.mul_(d).add_(bn.running_var, alpha=1.0 - d)
            average.num_batches_tracked.copy_(bn.num_batches_tracked)
        self.updates += 1

    def state_dict(self) -> dict:
        """For a run's restore point (explorer/training/run.py); a saved pair keeps the model alone."""
        return {"model": copy.deepcopy(self.model.state_dict()), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = state["updates"]
