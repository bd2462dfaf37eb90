"""The shapes' true densities (explorer/data/shape_densities.py) against their own samplers: each is a
density (mass 1 on the box), agrees with a histogram of the sampler's draws, and its cross-entropy on
fresh draws equals its entropy on the grid (they differ by KL(sampler || density), which is 0 only
when the density is the sampler's). Seeded; margins several standard errors wide."""
import numpy as np
import pytest

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.data.datasets import make_dataset
from explorer.data.shape_densities import shape_log_density, shape_log_density_on_grid
from explorer.data.shapes import SHAPE_SAMPLERS
from explorer.measures.evaluation import evaluate_pair
from explorer.training.run import Run

XS = np.linspace(-4.5, 4.5, 121)
AREA = (XS[1] - XS[0]) ** 2


@pytest.mark.parametrize("name", sorted(SHAPE_SAMPLERS))
def test_each_shapes_density_is_its_samplers(name):
    log_p = shape_log_density_on_grid(name, XS, XS)
    p = np.exp(log_p)
    # a density: mass 1 on the box (the checkerboard's edges cut by the cells: 1 %)
    assert p.sum() * AREA == pytest.approx(1.0, abs=0.012)
    draws = SHAPE_SAMPLERS[name](20_000, np.random.default_rng(7)).astype(np.float64)
    log_q = shape_log_density(name, draws)
    assert np.isfinite(log_q).all()   # every draw where the density has mass
    cross_entropy, error = -log_q.mean(), log_q.std() / np.sqrt(len(log_q))
    entropy = -(p[p > 0] * log_p[p > 0]).sum() * AREA
    assert cross_entropy == pytest.approx(entropy, abs=max(0.03, 4 * error))
    # a coarse histogram of the draws against the density's mass per bin
    edges = np.linspace(-4.5, 4.5, 10)
    counts, _, _ = np.histogram2d(draws[:, 0], draws[:, 1], bins=[edges, edges])
    gx, gy = np.meshgrid(XS, XS)
    mass, _, _ = np.histogram2d(gx.ravel(), gy.ravel(), bins=[edges, edges], weights=p * AREA)
    assert 0.5 * np.abs(counts / counts.sum() - mass / mass.sum()).sum() < 0.04


def test_a_wrong_density_is_told_apart():
    """The check above can fail: the moons' draws under the circles' density, and under the moons'
    density shifted by one noise std, have cross-entropies well above the moons' entropy."""
    draws = SHAPE_SAMPLERS["moons"](20_000, np.random.default_rng(7)).astype(np.float64)
    right = -shape_log_density("moons", draws).mean()
    shifted = -shape_log_density("moons", draws + np.array([0.2, 0.0])).mean()
    assert shifted > right + 0.15
    assert -shape_log_density("circles", draws).mean() > right + 0.5
    assert not np.isfinite(shape_log_density("checkerboard", np.array([[1.0, -1.0], [9.0, 0.0]]))).any()


def test_the_checkerboards_density_is_its_closed_form():
    inside = np.array([[0.5, 0.5], [-1.5, -1.5], [2.5, -1.5]])   # floor(x/2) + floor(y/2) even
    assert np.allclose(shape_log_density("checkerboard", inside), -np.log(32.0))


def test_a_shape_is_scored_as_a_mixture_is_nll_gap_and_kl_on_the_grid():
    options = resolve(preset_options("paper"), {"dataset": "moons", "hidden": 16, "batch_size": 64, "steps": 20})
    run = Run(options)
    run.advance(20)
    dataset = make_dataset("moons")
    result = evaluate_pair(run.state.energy, run.state.generator, options, dataset, samples=500, seed=0)
    assert result["nll_gap"] == pytest.approx(result["nll"] - result["nll_true"])
    assert result["nll_true"] == pytest.approx(2.40, abs=0.1)   # the moons' entropy (the test above)
    assert result["kl_true_to_model"] > 0 and 0 < result["total_variation"] < 1
