"""What the app shows, without a browser: probes, figures, controls, pair files and live sessions."""
import json
import math
import time
import zipfile

import numpy as np
import pytest
import torch

from explorer.config.options import resolve
from explorer.errors import UserInputError
from explorer.figures.frame import curves_figure, digit_montage, histogram_figure, landscape_figure
from explorer.measures import probes
from explorer.page import controls
from explorer.pairs.files import export_zip, unpack_upload
from explorer.training.live import LiveSession
from explorer.training.run import Run
from models import CheckpointError, DeepEnergy, EnergyConfig

SMALL = {"dataset": "ring", "hidden": 16, "latent_dim": 2, "batch_size": 32, "steps": 60, "seed": 0}


@pytest.fixture(scope="module")
def run():
    run = Run(resolve(None, SMALL))
    run.advance(30)
    return run


def test_normalised_density_of_a_frame_integrates_to_one_with_the_mass_outside(run):
    land = run.frame(fine=True).landscape
    cell = (land.xs[1] - land.xs[0]) * (land.ys[1] - land.ys[0])
    inside = float(np.exp(land.log_density.astype(np.float64)).sum() * cell)
    assert inside + land.mass_outside == pytest.approx(1.0, abs=2e-3)


def test_arrows_are_minus_the_gradient_by_finite_differences():
    torch.manual_seed(0)
    energy = DeepEnergy(EnergyConfig(data_dim=2, hidden=8, experts=8))
    arrows = probes.negative_energy_gradient(energy, (-1.0, 1.0, -1.0, 1.0), per_side=3)
    h = 1e-3
    for x, y, gx, gy in arrows:
        def e(px, py):
            with torch.no_grad():
                return float(energy(torch.tensor([[px, py]], dtype=torch.float32)))
        assert -gx == pytest.approx((e(x + h, y) - e(x - h, y)) / (2 * h), rel=2e-2, abs=2e-2)
        assert -gy == pytest.approx((e(x, y + h) - e(x, y - h)) / (2 * h), rel=2e-2, abs=2e-2)


def test_latent_grid_lines_are_the_generator_on_a_latent_square(run):
    lines = probes.latent_grid_image(run.generator, lines=3, points=5)
    assert lines.shape == (6, 5, 2)
    z = torch.tensor([[-1.0, -1.0]])   # the first line of constant z1 = -1 starts at z2 = -1
    run.generator.eval()
    with torch.no_grad():
        expected = run.generator(z).numpy()[0]
    run.generator.train()
    np.testing.assert_allclose(lines[0, 0], expected, rtol=1e-5, atol=1e-6)


def test_landscape_figure_layers_and_views(run):
    frame = run.frame(fine=True)
    fig = landscape_figure(frame, show_arrows=True, show_latent=True)
    names = [t.name for t in fig.data]
    assert fig.data[0].type == "contour" and names[1:] == ["G(latent grid)", "-∇E (length ∝ √|∇E|)", "real data",
                                                          "generated"]
    density = landscape_figure(frame, view="density", show_data=False, show_samples=False)
    assert len(density.data) == 1 and np.nanmin(density.data[0].z) >= 0
    heat = landscape_figure(frame, contours=False)
    assert heat.data[0].type == "heatmap"
    assert f"step {frame.step} " in fig.layout.title.text


def test_histogram_figure_shares_sum_to_one_and_shows_the_overlap(run):
    frame = run.frame()
    fig = histogram_figure(frame)
    for trace in fig.data:
        assert sum(trace.y) == pytest.approx(1.0)
    assert "overlap real/generated" in fig.layout.title.text


def test_curves_figure_draws_each_recorded_metric(run):
    frame = run.frame()
    fig = curves_figure(frame.history, frame.total_steps)
    drawn = {t.name for t in fig.data}
    assert {"energy loss", "generator loss", "real data", "generated", "H estimate"} <= drawn


def test_digit_montage_tiles_images_with_blank_gaps():
    images = np.stack([np.full(64, v, dtype=np.float32) for v in (-1.0, 0.0, 1.0)])
    canvas = digit_montage(images, columns=2)
    assert canvas.shape == (17, 17)
    assert (canvas[:8, :8] == -1).all() and (canvas[:8, 9:] == 0).all() and (canvas[9:, :8] == 1).all()
    assert np.isnan(canvas[8]).all() and np.isnan(canvas[9:, 9:]).all()


def test_controls_to_options_and_back():
    values = controls.controls_from_options(resolve(None, {"dataset": "grid", "seed": 3}))
    options = controls.options_from_controls(values, None)
    assert options["dataset"] == "grid" and options["modes"] == 25 and options["seed"] == 3
    assert options["radius"] is None and options["energy_hidden"] is None  # 0 in the page: same as hidden


@pytest.mark.parametrize("change, message", [
    ({"std": 0.0}, "std must be between 0.01 and 10, got 0"),
    ({"batch_size": None}, "batch size is empty"),
    ({"dataset": "points"}, "upload a .csv or .npy"),
])
def test_controls_refuse_bad_values_with_the_page_labels(change, message):
    values = {**controls.controls_from_options(resolve(None, {})), **change}
    with pytest.raises(UserInputError, match=message):
        controls.options_from_controls(values, None)


def test_pair_zip_round_trip_keeps_weights_and_history(run, tmp_path):
    archive = export_zip(run, str(tmp_path), "pair")
    folder, points = unpack_upload([archive])
    again = Run.from_checkpoint(folder)
    assert points is None and again.step == run.step
    for a, b in zip(again.energy.state_dict().values(), run.energy.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert again.history["loss_energy"] == [(s, pytest.approx(v)) for s, v in run.history["loss_energy"]]


@pytest.mark.parametrize("entry", ["../config.json", "sub/model.safetensors", "evil.py"])
def test_zip_entries_outside_a_pair_are_refused(tmp_path, entry):
    archive = tmp_path / "pair.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(entry, "x")
    with pytest.raises(CheckpointError, match="unexpected entry"):
        unpack_upload([str(archive)])


def test_live_session_trains_in_the_background_and_stops_within_a_chunk():
    session = LiveSession(device="cpu")
    session.new_run(resolve(None, {**SMALL, "steps": 1_000_000}))
    session.start()
    frame, seen = session.wait_frame(session.latest()[1], timeout=10)
    with pytest.raises(UserInputError, match="press Pause first"):
        session.step(1)
    asked = time.perf_counter()
    session.stop(wait=True)
    assert time.perf_counter() - asked < 2.0   # one chunk (0.05 s) and a last frame; benchmarks measure it
    step = session.run.step
    assert step > 0 and not session.training
    time.sleep(0.2)
    assert session.run.step == step
    final, final_id = session.latest()
    assert final.step == step and final_id > seen


def test_train_continues_a_run_unless_a_structural_setting_changed():
    session = LiveSession(device="cpu")
    options = resolve(None, SMALL)
    assert session.needs_new_run(options)
    session.new_run(options)
    assert not session.needs_new_run({**options, "entropy_weight": 0.0})    # live: applies mid-run
    assert session.needs_new_run({**options, "seed": 1})
    session.end()
    assert session.needs_new_run(options)                                   # Stop ends the run


def test_a_diverging_run_pauses_with_a_message_and_keeps_its_last_good_state():
    session = LiveSession(device="cpu")
    session.new_run(resolve(None, {**SMALL, "steps": 1000}))
    session.step(5)
    with session.lock:
        for p in session.run.generator.parameters():
            p.data.fill_(math.nan)
    session.start()
    deadline = time.time() + 10
    while session.training and time.time() < deadline:
        time.sleep(0.05)
    frame, _ = session.latest()
    assert "diverged" in frame.info["warning"] and frame.info["paused"]
    assert "diverged" in controls.status_markdown(frame)


def test_status_line_says_step_speed_device_and_problems(run):
    frame = run.frame()
    text = controls.status_markdown(frame, note="hello", problem="bad <b>")
    assert f"step {frame.step:,} / {frame.total_steps:,}" in text and "device cpu" in text
    assert "hello" in text and "bad &lt;b&gt;" in text
    assert json.dumps(text)


# ---------------------------------------------------------------------------- gallery, interpolation, UMAP
from explorer.figures.views import embedding_figure, gallery_figure, interpolation_figure  # noqa: E402
from explorer.measures.embedding import embed  # noqa: E402
from explorer.measures.gallery import Gallery, interpolate, latent_path, make_gallery  # noqa: E402


def test_linear_path_runs_from_one_latent_to_the_other():
    z0, z1 = np.array([-1.0, 0.0]), np.array([1.0, 0.5])
    path = latent_path(z0, z1, 5, "linear")
    np.testing.assert_allclose(path[[0, 2, 4]], [z0, (z0 + z1) / 2, z1], atol=1e-6)


def test_spherical_path_keeps_the_norm_between_equal_norm_latents():
    z0, z1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    path = latent_path(z0, z1, 9, "spherical")
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(path[4], [math.sqrt(0.5), 0.0, math.sqrt(0.5)], atol=1e-6)
    parallel = latent_path(z0, 2 * z0, 3, "spherical")   # no arc: the straight line
    np.testing.assert_allclose(parallel[1], 1.5 * z0, atol=1e-6)


def test_bad_path_settings_are_refused():
    with pytest.raises(UserInputError, match="between 2 and"):
        latent_path(np.zeros(2), np.ones(2), 1)
    with pytest.raises(UserInputError, match="linear, spherical"):
        latent_path(np.zeros(2), np.ones(2), 5, "cubic")


def test_gallery_sorted_by_energy_and_each_energy_is_its_samples(run):
    gallery = make_gallery(run.energy, run.generator, run.probe_real, 20, seed=3, sort_by_energy=True)
    assert np.all(np.diff(gallery.energies) >= 0) and np.all(np.diff(gallery.real_energies) >= 0)
    from explorer.measures.evaluation import energy_fn
    np.testing.assert_allclose(energy_fn(run.energy)(gallery.samples), gallery.energies, rtol=1e-5, atol=1e-4)
    again = make_gallery(run.energy, run.generator, run.probe_real, 20, seed=3, sort_by_energy=True)
    np.testing.assert_array_equal(gallery.samples, again.samples)     # a seed redraws the same gallery
    path = interpolate(run.energy, run.generator, gallery.latents[0], gallery.latents[1], 4)
    np.testing.assert_allclose(path.samples[[0, -1]], gallery.samples[:2], rtol=1e-5, atol=1e-5)


def test_gallery_and_interpolation_figures(run):
    gallery = make_gallery(run.energy, run.generator, run.probe_real, 30, seed=0)
    fig = gallery_figure(gallery, run.frame().landscape, run.dataset.bounds)
    names = [t.name for t in fig.data]
    assert names[-2:] == ["5 lowest energy", "5 highest energy"]
    lowest = fig.data[-2]
    assert max(run.energy(torch.tensor(np.c_[lowest.x, lowest.y], dtype=torch.float32)).detach().numpy()) \
        <= np.sort(gallery.energies)[4] + 1e-3
    path = interpolate(run.energy, run.generator, gallery.latents[0], gallery.latents[1], 7, "spherical")
    fig = interpolation_figure(path, None, run.dataset.bounds)
    assert len(fig.frames) == 7 and len(fig.layout.sliders[0].steps) == 7
    digits = Gallery(np.zeros((4, 64), np.float32), np.arange(4, dtype=np.float32), None,
                                    np.ones((4, 64), np.float32), np.arange(4, dtype=np.float32), 0)
    fig = gallery_figure(digits)
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"] and fig.data[0].zsmooth is False


def test_umap_separates_two_far_apart_clusters_and_warm_starts():
    rng = np.random.default_rng(0)
    blob = lambda centre, n: (centre + 0.1 * rng.standard_normal((n, 8))).astype(np.float32)  # noqa: E731
    real = np.concatenate([blob(0.0, 60), blob(5.0, 60)])
    fake = np.concatenate([blob(0.0, 40), blob(5.0, 40)])
    first = embed(real, fake, seed=0)
    assert first.real_2d.shape == (120, 2) and first.fake_2d.shape == (80, 2) and not first.warm_start
    a = np.concatenate([first.real_2d[:60], first.fake_2d[:40]])
    b = np.concatenate([first.real_2d[60:], first.fake_2d[40:]])
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > 3 * max(a.std(0).max(), b.std(0).max())
    second = embed(real, fake[::-1].copy(), seed=0, previous=first)
    assert second.warm_start
    fig = embedding_figure(first.real_2d, first.fake_2d, colour_by="energy",
                                        real_energies=np.zeros(120), fake_energies=np.ones(80))
    assert [t.name for t in fig.data] == ["real", "generated"]
