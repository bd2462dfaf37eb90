"""The Densities tab: p_data, p_E and p_G on one grid with the KLs between them, and the
generator's grid entropy beside what each estimator reports (explorer/measures/densities.py,
explorer/measures/entropies.py, explorer/page/densities.py, explorer/figures/densities.py), then the tab
through gradio_client against `python app.py`.

Statistical checks fix their seeds and leave a margin of several times the error measured.
"""
import json
import math
import re

import numpy as np
import pytest
import torch

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.data.mixtures import grid_mixture, mixture_bounds, ring_mixture
from explorer.figures.densities import LOG_RANGE, SCALES, densities_figure, entropy_figure
from explorer.figures.style import IMAGES
from explorer.measures import densities, entropies
from explorer.page.densities import FIRST_RECORD_NOTE, NO_HISTORY_NOTE, DensityState, density_tab
from explorer.seeds import ENTROPY_OFFSET
from explorer.training.live import LiveSession
from explorer.training.run import PROGRESS_EVERY, Run

GRID = densities.make_grid((-4.0, 4.0, -4.0, 4.0), 150)


def log_gaussian(grid, mean, std):
    points = grid.points()
    log_p = -((points - np.asarray(mean)) ** 2).sum(1) / (2 * std**2) - math.log(2 * math.pi * std**2)
    return log_p.reshape(len(grid.ys), len(grid.xs))


# ---------------------------------------------------------------------------- KL on a grid
def test_kl_of_identical_densities_is_zero():
    log_p = log_gaussian(GRID, (0.3, -0.2), 0.7)
    assert densities.kl_on_grid(log_p, log_p, GRID.cell_area) == pytest.approx(0.0, abs=1e-12)
    kl = densities.pairwise_kl(log_p, log_p, log_p, GRID.cell_area)
    assert all(v == pytest.approx(0.0, abs=1e-12) for v in kl.values())


def test_kl_between_two_gaussians_on_the_grid_matches_the_closed_form():
    m1, s1, m2, s2 = np.array([0.3, -0.2]), 0.6, np.array([-0.4, 0.5]), 0.9
    # KL(N(m1, s1^2 I) || N(m2, s2^2 I)) in 2-D = 2 log(s2/s1) + (2 s1^2 + |m1 - m2|^2) / (2 s2^2) - 1
    closed = 2 * math.log(s2 / s1) + (2 * s1**2 + ((m1 - m2) ** 2).sum()) / (2 * s2**2) - 1
    forward = densities.kl_on_grid(log_gaussian(GRID, m1, s1), log_gaussian(GRID, m2, s2), GRID.cell_area)
    assert forward == pytest.approx(closed, abs=1e-2)
    backward = densities.kl_on_grid(log_gaussian(GRID, m2, s2), log_gaussian(GRID, m1, s1), GRID.cell_area)
    assert backward != pytest.approx(forward, abs=0.1)   # KL has a direction


# ---------------------------------------------------------------------------- kernel density estimates
def test_kde_is_exact_for_one_sample():
    """One sample: the estimate is the Gaussian kernel itself at the grid's centres."""
    estimate = densities.kde_on_grid(np.array([[0.5, -1.0]]), GRID, 0.4)
    assert np.allclose(estimate, np.exp(log_gaussian(GRID, (0.5, -1.0), 0.4)), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("mixture", [ring_mixture(8, 2.0, 0.05), ring_mixture(8, 2.0, 0.3),
                                     grid_mixture(25, 2.0, 0.05)], ids=["ring-std0.05", "ring-std0.3", "grid25"])
def test_kde_of_many_mixture_samples_is_close_to_the_true_density(mixture):
    grid = densities.make_grid(mixture_bounds(mixture))
    exact = mixture.log_density(grid.points()).reshape(150, 150)
    estimate = densities.estimate_density(mixture.sample(10_000, np.random.default_rng(0)), grid, seed=0)
    # measured 0.024 (ring), 0.015 (broad ring), 0.105 (grid, whose std is 2/3 of a cell)
    assert densities.kl_on_grid(exact, estimate.log_density, grid.cell_area) < 0.25
    assert np.isfinite(estimate.log_density).all()


def test_bandwidth_follows_the_spread_of_the_samples():
    mixture_narrow, mixture_broad = ring_mixture(8, 2.0, 0.05), ring_mixture(8, 2.0, 0.3)
    grid = densities.make_grid(mixture_bounds(mixture_broad))
    rng = np.random.default_rng(1)
    narrow = densities.estimate_density(mixture_narrow.sample(5000, rng), grid).bandwidth
    broad = densities.estimate_density(mixture_broad.sample(5000, rng), grid).bandwidth
    assert broad > 2 * narrow


def test_a_collapsed_sample_set_is_far_from_the_data_and_the_kl_stays_finite():
    mixture = ring_mixture()
    grid = densities.make_grid(mixture_bounds(mixture))
    exact = mixture.log_density(grid.points()).reshape(150, 150)
    rng = np.random.default_rng(2)
    spread = densities.estimate_density(mixture.sample(5000, rng), grid).log_density
    one_mode = mixture.centers[0] + mixture.std * rng.standard_normal((5000, 2))
    collapsed = densities.estimate_density(one_mode, grid).log_density
    kl_spread = densities.kl_on_grid(exact, spread, grid.cell_area)
    kl_collapsed = densities.kl_on_grid(exact, collapsed, grid.cell_area)
    assert math.isfinite(kl_collapsed)            # the uniform floor keeps it finite
    assert kl_collapsed > 5.0 > 0.1 > kl_spread   # 7/8 of the data where the estimate is only its floor


def test_too_few_samples_are_refused():
    with pytest.raises(ValueError, match="at least 10"):
        densities.estimate_density(np.full((20, 2), np.nan), GRID)


# ---------------------------------------------------------------------------- grid entropy
def monte_carlo_entropy(mixture, n=200_000):
    return float(-mixture.log_density(mixture.sample(n, np.random.default_rng(99))).mean())


@pytest.mark.parametrize("std", [0.05, 0.5, 2.0])
def test_grid_entropy_of_a_gaussian_matches_the_closed_form(std):
    samples = np.random.default_rng(3).normal(0.7, std, size=(entropies.ENTROPY_SAMPLES, 2))
    # H(N(m, s^2 I_2)) = log(2 pi e s^2); measured within 0.04
    assert entropies.grid_entropy(samples)["entropy"] == pytest.approx(math.log(2 * math.pi * math.e * std**2), abs=0.1)


def test_grid_entropy_of_a_uniform_square_and_a_thin_rectangle():
    rng = np.random.default_rng(4)
    square = rng.uniform(-1, 1, size=(entropies.ENTROPY_SAMPLES, 2))
    assert entropies.grid_entropy(square)["entropy"] == pytest.approx(math.log(4.0), abs=0.03)
    rectangle = rng.uniform(0, 1, size=(entropies.ENTROPY_SAMPLES, 2)) * [3.0, 0.2]
    assert entropies.grid_entropy(rectangle)["entropy"] == pytest.approx(math.log(0.6), abs=0.03)


@pytest.mark.parametrize("mixture", [ring_mixture(), grid_mixture()], ids=["ring", "grid25"])
def test_grid_entropy_of_a_mixture_matches_monte_carlo(mixture):
    samples = mixture.sample(entropies.ENTROPY_SAMPLES, np.random.default_rng(5))
    # measured within 0.01 (ring) and 0.055 (25 modes)
    assert entropies.grid_entropy(samples)["entropy"] == pytest.approx(monte_carlo_entropy(mixture), abs=0.12)


def test_grid_entropy_moves_by_log_scale_squared_when_samples_are_scaled():
    samples = ring_mixture().sample(entropies.ENTROPY_SAMPLES, np.random.default_rng(6))
    base = entropies.grid_entropy(samples)["entropy"]
    # H(a X) = H(X) + d log a, d = 2: a collapse to a tiny spread is measured, not floored by a grid
    assert entropies.grid_entropy(samples * 1e-3)["entropy"] == pytest.approx(base + 2 * math.log(1e-3), abs=1e-6)


def test_grid_entropy_ignores_non_finite_samples_and_needs_two():
    samples = np.random.default_rng(7).uniform(0, 1, size=(5000, 2))
    with_nan = np.concatenate([samples, np.full((10, 2), np.nan)])
    assert entropies.grid_entropy(with_nan)["entropy"] == pytest.approx(entropies.grid_entropy(samples)["entropy"])
    assert math.isnan(entropies.grid_entropy(np.zeros((1, 2)))["entropy"])


# ---------------------------------------------------------------------------- runs record the entropies
def small_run(**changes) -> Run:
    options = resolve(preset_options("paper"), {"hidden": 32, "batch_size": 64, "steps": PROGRESS_EVERY, **changes})
    return Run(options)


def test_a_2d_run_records_the_grid_entropy_and_each_estimator_at_progress_evaluations():
    run = small_run()
    run.advance(PROGRESS_EVERY)
    for key in ("entropy_grid", "entropy_batchnorm", "entropy_knn", "entropy_pullaway"):
        assert [step for step, _ in run.history[key]] == [PROGRESS_EVERY], key
        assert math.isfinite(run.history[key][0][1])
    record = run.history_record()
    assert "entropy_grid" in record and "entropy_knn" in record   # and so into metrics.json
    # the values are what the estimators say of the same samples
    samples = run.generator.sample(entropies.ENTROPY_SAMPLES,
                                   torch.Generator().manual_seed(run.probe_seed + ENTROPY_OFFSET))
    assert run.history["entropy_grid"][0][1] == pytest.approx(entropies.grid_entropy(samples.numpy())["entropy"])
    knn = entropies.estimator_values(run.generator, run.energy, samples[:64], ("knn",))["entropy_knn"]
    assert run.history["entropy_knn"][0][1] == pytest.approx(knn)


def test_the_langevin_baseline_records_its_chains_entropy_without_a_batchnorm_surrogate():
    run = small_run(sampler="langevin", langevin_steps=2)
    assert run.entropy_record() == {}      # no chains have run yet
    run.advance(3)
    record = run.entropy_record()
    assert set(record) == {"entropy_grid", "entropy_knn", "entropy_pullaway"}
    chains = run.state.langevin.buffer.numpy()
    assert record["entropy_grid"] == pytest.approx(entropies.grid_entropy(chains)["entropy"])


def test_digits_record_no_entropy():
    run = Run(resolve(preset_options("digits"), {"hidden": 16, "steps": 2}))
    assert run.entropy_record() == {}


# ---------------------------------------------------------------------------- the tab, in process
def session_of(run: Run) -> LiveSession:
    session = LiveSession(device="cpu")
    session.run = run
    return session


def test_the_tab_on_a_langevin_run_shows_its_chains():
    run = small_run(sampler="langevin", langevin_steps=2)
    run.advance(3)
    tab = density_tab(session_of(run), DensityState(), "density")
    assert "persistent Langevin chains" in tab.table
    assert "Langevin chains (KDE estimate)" in json.dumps(tab.densities.to_plotly_json()["layout"])
    assert all(math.isfinite(float(v)) for v in re.findall(r"\| KL\(.*?\) \| ([-\d.e+]+) \|", tab.table))
    names = [t["name"] for t in tab.entropy.to_plotly_json()["data"]]
    assert not any("batch-norm" in name for name in names)


def test_a_shapes_density_is_exact_and_a_users_points_get_an_estimate_and_say_so():
    run = small_run(dataset="moons", steps=10)
    tab = density_tab(session_of(run), DensityState(), resolution=60)
    assert "exact: the moons shape's own density" in tab.table
    titles = [a["text"] for a in tab.densities.to_plotly_json()["layout"]["annotations"]]
    assert titles[0] == "p_data (exact)"
    run = small_run(dataset="points", points="bundled:iris:train", steps=10)
    tab = density_tab(session_of(run), DensityState(), resolution=60)
    assert "an estimate (no closed form)" in tab.table and "kernel density estimate of the 108 training points" in tab.table
    titles = [a["text"] for a in tab.densities.to_plotly_json()["layout"]["annotations"]]
    assert titles[0] == "p_data (KDE estimate)"


def test_a_new_live_run_shows_its_current_entropies_until_its_first_record():
    session = LiveSession(device="cpu")
    session.new_run(small_run().options)
    tab = density_tab(session, DensityState(), resolution=60)
    figure = tab.entropy.to_plotly_json()
    assert {len(t["x"]) for t in figure["data"]} == {1} and {t["x"][0] for t in figure["data"]} == {0}
    assert FIRST_RECORD_NOTE in [a["text"] for a in figure["layout"]["annotations"]]
    session.step(PROGRESS_EVERY)   # the first progress evaluation: curves from the history
    entropy = density_tab(session, DensityState(), resolution=60).entropy
    assert list(entropy.data[0].x) == [PROGRESS_EVERY] and entropy.data[0].name.startswith("H(p_G) on a grid")
    figure = entropy.to_plotly_json()
    assert not any("current step" in a["text"] for a in figure["layout"]["annotations"])


def test_the_tab_says_digits_are_not_2d():
    run = Run(resolve(preset_options("digits"), {"hidden": 16, "steps": 2}))
    tab = density_tab(session_of(run), DensityState())
    assert "for 2-D data" in tab.table
    assert "for 2-D data" in tab.densities.to_plotly_json()["layout"]["annotations"][0]["text"]
    # both figures say they stand for images: the page then shows the message once, in the table,
    # with neither figure nor the scale and Refresh (page.css; tests/test_browser_figures.py)
    assert {figure.to_plotly_json()["layout"]["meta"]["kind"] for figure in (tab.densities, tab.entropy)} == {IMAGES}


def test_the_densities_figure_puts_three_heatmaps_on_one_colour_scale():
    mixture = ring_mixture()
    grid = densities.make_grid(mixture_bounds(mixture), 60)
    log_p = mixture.log_density(grid.points()).reshape(60, 60)
    view = densities.DensityView(grid=grid, log_data=log_p, log_energy=log_p - 1.0, log_generator=log_p - 2.0,
                                 kl={"data_energy": 0.0, "data_generator": 0.0, "generator_energy": 0.0},
                                 notes={"data": "d", "energy": "e", "generator": "g"}, step=7, sampler="generator",
                                 data_exact=True)
    for scale in SCALES:
        figure = densities_figure(view, scale).to_plotly_json()
        assert [t["type"] for t in figure["data"]] == ["heatmap"] * 3
        assert {t["coloraxis"] for t in figure["data"]} == {"coloraxis"}
        top = float(log_p.max())
        expected = (0.0, math.exp(top)) if scale == "density" else (top - LOG_RANGE, top)
        axis = figure["layout"]["coloraxis"]
        assert (axis["cmin"], axis["cmax"]) == pytest.approx(expected)
    assert "KL(p_data‖p_G) 0" in figure["layout"]["title"]["text"]
    with pytest.raises(ValueError):
        densities_figure(view, "energy")


def test_the_entropy_figure_shows_curves_or_only_the_current_point():
    history = {"entropy_grid": ((250, 500), (1.0, 0.5)), "entropy_knn": ((250, 500), (1.1, 0.4))}
    figure = entropy_figure(history, None, 500, 1000).to_plotly_json()
    assert [t["name"] for t in figure["data"]] == ["H(p_G) on a grid (reference)", "kNN estimate (batch)"]
    only_now = entropy_figure({}, {"entropy_grid": 0.2, "entropy_pullaway": -0.3}, 3000, 3000,
                                              note=NO_HISTORY_NOTE).to_plotly_json()
    assert [(t["x"], t["y"]) for t in only_now["data"]] == [([3000], [0.2]), ([3000], [-0.3])]
    assert only_now["data"][1]["yaxis"] == "y3"      # pull-away on its own axis: not nats
    assert any("no entropy record" in a["text"] for a in only_now["layout"]["annotations"])


# ---------------------------------------------------------------------------- the tab through the app
gradio_client = pytest.importorskip("gradio_client")


def kl_from_title(figure_json: str, name: str) -> float:
    title = json.loads(figure_json)["layout"]["title"]["text"]
    return float(re.search(re.escape(name) + r" ([-\d.e+]+)", title).group(1))


def test_the_tab_shows_collapse_as_a_far_larger_kl_data_to_generator(app_url):
    client = gradio_client.Client(app_url, verbose=False)
    kl = {}
    for pair in ("lesson", "lesson-no-entropy"):
        client.predict(pair, api_name="/choose_pretrained")
        figure, entropy_figure, table, status = client.predict("log density", api_name="/densities")[:4]
        assert f"pretrained: {pair}" in status and "densities in" in status
        heatmaps = json.loads(figure)["data"]
        assert [t["type"] for t in heatmaps] == ["heatmap"] * 3
        assert "exact: the mixture of 8 Gaussians" in table
        assert "kernel density estimate of 10,000 generator samples" in table
        kl[pair] = kl_from_title(figure, "KL(p_data‖p_G)")
        # the pretrained pairs' saved histories predate the entropy record: the current point and a note
        entropy = json.loads(entropy_figure)
        assert {len(t["x"]) for t in entropy["data"]} == {1}
        assert any("no entropy record" in a.get("text", "") for a in entropy["layout"]["annotations"])
    # measured 1.40 (entropy, 8 modes) against 7.95 (no entropy: one curved streak)
    assert kl["lesson-no-entropy"] > 3 * kl["lesson"] and kl["lesson-no-entropy"] - kl["lesson"] > 3.0


def test_the_tab_tells_digits_it_is_for_2d_data(app_url):
    client = gradio_client.Client(app_url, verbose=False)
    client.predict("digits", api_name="/choose_pretrained")
    figure, _, table, status = client.predict("density", api_name="/densities")[:4]
    assert "for 2-D data" in table
    assert json.loads(figure)["data"] == []
    assert "⚠️" not in status
