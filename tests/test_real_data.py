"""Real 2-D data that ships with scikit-learn, the unbalanced pair, and the weights a pair recovers."""
import numpy as np
import pytest

from explorer import study as study_command
from explorer.config.options import resolve
from explorer.data.bundled import BUNDLED, bundled_points
from explorer.data.datasets import make_dataset
from explorer.data.mixtures import UNBALANCED_WEIGHTS, unbalanced_mixture
from explorer.data.points import load_points
from explorer.errors import UserInputError
from explorer.measures import metrics
from explorer.studies import engine


@pytest.mark.parametrize("name", list(BUNDLED))
def test_each_bundled_set_splits_into_disjoint_train_and_heldout(name):
    whole = bundled_points(f"bundled:{name}")
    train, heldout = bundled_points(f"bundled:{name}:train"), bundled_points(f"bundled:{name}:heldout")
    assert whole.shape[1] == 2 and len(train) + len(heldout) == len(whole)
    assert abs(len(heldout) / len(whole) - 0.2) < 0.01
    rows = {tuple(r) for r in whole.tolist()}
    assert {tuple(r) for r in train.tolist()} <= rows and {tuple(r) for r in heldout.tolist()} <= rows
    np.testing.assert_array_equal(train, bundled_points(f"bundled:{name}:train"))   # the same split every time


@pytest.mark.parametrize("name", list(BUNDLED))
def test_a_held_out_percentage_splits_the_same_shuffle_70_30(name):
    whole = bundled_points(f"bundled:{name}")
    train, heldout = bundled_points(f"bundled:{name}:train:30"), bundled_points(f"bundled:{name}:heldout:30")
    assert len(train) + len(heldout) == len(whole) and abs(len(heldout) / len(whole) - 0.3) < 0.01
    # every row once: the two parts together are the whole (rows repeat in the data itself: rounded values)
    assert sorted(map(tuple, np.concatenate([train, heldout]).tolist())) == sorted(map(tuple, whole.tolist()))
    # the same shuffle: 80 / 20's held-out rows are the last 20 % of it, all of them among 70 / 30's last 30 %
    heldout_20 = bundled_points(f"bundled:{name}:heldout")
    np.testing.assert_array_equal(heldout[-len(heldout_20):], heldout_20)


def test_iris_petals_are_the_known_columns():
    iris = bundled_points("bundled:iris")
    assert iris.shape == (150, 2)
    np.testing.assert_allclose(iris[0], [1.4, 0.2], rtol=1e-6)   # Fisher's first flower: petal 1.4 x 0.2 cm


@pytest.mark.parametrize("source, says", [("bundled:moons", "unknown bundled data"),
                                          ("bundled:iris:test", "the split must be"),
                                          ("bundled:iris:train:3", "percentage must be a whole number from 5"),
                                          ("bundled:iris:heldout:x", "percentage must be a whole number")])
def test_a_bad_bundled_name_is_one_clear_error(source, says):
    with pytest.raises(UserInputError, match=says):
        load_points(source)


def test_the_points_dataset_trains_on_bundled_data_like_a_file():
    dataset = make_dataset("points", points_path="bundled:wine:train")
    assert dataset.points.shape == (142, 2)
    np.testing.assert_allclose(dataset.points.mean(axis=0), 0.0, atol=1e-5)   # standardised
    assert resolve(None, {"dataset": "points", "points": "bundled:wine"})["points"] == "bundled:wine"


def test_the_unbalanced_pair_draws_its_weights_and_has_their_density():
    mixture = unbalanced_mixture()
    draws = mixture.sample(20_000, np.random.default_rng(0))
    share = metrics.mode_weights(draws, mixture.centers)
    np.testing.assert_allclose(share, UNBALANCED_WEIGHTS, atol=0.01)
    xs = np.linspace(-4, 4, 401)
    gx, gy = np.meshgrid(xs, xs)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    mass = np.exp(mixture.log_density(grid)) * (xs[1] - xs[0]) ** 2
    assert mass.sum() == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(metrics.mode_weights(grid, mixture.centers, mass), UNBALANCED_WEIGHTS, atol=1e-3)


def test_uniform_mixtures_draw_exactly_as_before():
    """A mixture without weights keeps its old stream: seeded runs stay bit-for-bit the same."""
    ring = make_dataset("ring").mixture
    draws = ring.sample(5, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    modes = rng.integers(8, size=5)
    expected = (ring.centers[modes] + ring.std * rng.standard_normal((5, 2))).astype(np.float32)
    np.testing.assert_array_equal(draws, expected)


def test_a_gaussian_mixture_fits_gaussian_points_to_their_entropy():
    rng = np.random.default_rng(0)
    train, heldout = rng.standard_normal((2000, 2)), rng.standard_normal((2000, 2))
    nll, components = metrics.gaussian_mixture_nll(train, heldout)
    assert components == 1 and nll == pytest.approx(np.log(2 * np.pi * np.e), abs=0.05)   # 2.838 nats


def test_a_study_scores_real_data_on_its_heldout_points(tmp_path):
    spec = tmp_path / "iris.toml"
    spec.write_text('seeds = "0"\nsamples = 200\n[base]\nsteps = 30\nbatch_size = 32\nhidden = 16\n'
                    '[configurations]\niris = { dataset = "points", points = "bundled:iris:train", '
                    'heldout = "bundled:iris:heldout" }\n'
                    'unbalanced = { dataset = "unbalanced" }\n')
    folder = str(tmp_path / "out")
    study_command.main([str(spec), "--out", folder, "--quiet", "--workers", "1"])
    records = {r["configuration"]: r for r in engine.read_records(folder)}
    iris = records["iris"]["metrics"]
    assert records["iris"]["status"] == "done" and np.isfinite(iris["nll"])
    assert iris["gmm_components"] >= 1 and iris["nll_gap_gmm"] == pytest.approx(iris["nll"] - iris["nll_gmm"])
    unbalanced = records["unbalanced"]["metrics"]
    assert 0 <= unbalanced["weight_error_energy"] <= 1 and len(unbalanced["weights_generator"]) == 2


def test_a_bad_heldout_name_fails_before_anything_runs(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text('[configurations]\niris = { dataset = "points", points = "bundled:iris:train", '
                    'heldout = "bundled:iris:tset" }\n')
    with pytest.raises(UserInputError, match="the split must be"):
        study_command.main([str(spec), "--out", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()
