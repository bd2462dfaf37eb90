"""Datasets against known answers: mixture geometry and density, shapes, and every way a user's
points file can be wrong."""
import math
import pickle

import numpy as np
import pytest

from explorer.data.datasets import DATASET_NAMES, make_dataset
from explorer.data.digits import load_digits_scaled
from explorer.data.mixtures import grid_mixture, mixture_bounds, ring_mixture
from explorer.data.points import MAX_POINTS, load_points, standardise
from explorer.data.shapes import SHAPE_SAMPLERS
from explorer.errors import UserInputError


def sorted_rows(array):
    return array[np.lexsort(array.T[::-1])]


# ----------------------------------------------------------------------------- mixtures

def test_ring_of_four_centres():
    centers = ring_mixture(modes=4, radius=1.0, std=0.1).centers
    np.testing.assert_allclose(centers, [[1, 0], [0, 1], [-1, 0], [0, -1]], atol=1e-12)


def test_grid_of_nine_centres():
    centers = grid_mixture(modes=9, spacing=2.0, std=0.1).centers
    expected = np.array([[x, y] for x in (-2, 0, 2) for y in (-2, 0, 2)], dtype=float)
    np.testing.assert_allclose(sorted_rows(centers), sorted_rows(expected))


def test_default_grid_coordinates():
    centers = make_dataset("grid").mixture.centers
    assert centers.shape == (25, 2)
    np.testing.assert_allclose(np.unique(centers[:, 0]), [-4, -2, 0, 2, 4])
    np.testing.assert_allclose(np.unique(centers[:, 1]), [-4, -2, 0, 2, 4])


def test_mixture_samples_spread_std_around_each_mode():
    mixture = ring_mixture(modes=8, radius=2.0, std=0.05)
    samples = mixture.sample(40_000, np.random.default_rng(0))
    assert samples.shape == (40_000, 2) and samples.dtype == np.float32
    nearest = ((samples[:, None, :] - mixture.centers[None]) ** 2).sum(-1).argmin(1)
    for k in range(8):
        offsets = samples[nearest == k] - mixture.centers[k]
        assert abs(np.mean(nearest == k) - 1 / 8) < 0.01                # uniform weights
        np.testing.assert_allclose(offsets.std(axis=0), 0.05, rtol=0.05)
        np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.005)


@pytest.mark.parametrize("mixture", [ring_mixture(8, 2.0, 0.05), grid_mixture(9, 1.5, 0.2), ring_mixture(1, 1.0, 0.3)])
def test_log_density_integrates_to_one(mixture):
    xmin, xmax, ymin, ymax = mixture_bounds(mixture)
    cells = 500
    xs = xmin + (xmax - xmin) / cells * (np.arange(cells) + 0.5)
    ys = ymin + (ymax - ymin) / cells * (np.arange(cells) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    density = np.exp(mixture.log_density(np.stack([gx.ravel(), gy.ravel()], 1)))
    total = density.sum() * (xmax - xmin) / cells * (ymax - ymin) / cells
    assert total == pytest.approx(1.0, abs=1e-4)


def test_log_density_at_a_single_mode_centre():
    # one component: log p(mu) = -log(2 pi s^2)
    mixture = ring_mixture(modes=1, radius=1.0, std=0.5)
    assert mixture.log_density(np.array([[1.0, 0.0]]))[0] == pytest.approx(-math.log(2 * math.pi * 0.25))


def test_mixture_bounds_square_with_margin():
    assert make_dataset("ring").bounds == pytest.approx((-3, 3, -3, 3))
    assert make_dataset("grid").bounds == pytest.approx((-5, 5, -5, 5))
    assert make_dataset("ring", std=0.5).bounds == pytest.approx((-5, 5, -5, 5))   # 6 std = 3


@pytest.mark.parametrize("call, words", [
    (lambda: ring_mixture(modes=0), "modes"),
    (lambda: ring_mixture(modes=2.5), "modes"),
    (lambda: ring_mixture(modes="8"), "modes"),
    (lambda: ring_mixture(radius=0), "radius"),
    (lambda: ring_mixture(std=-1), "std must be a positive number, got -1"),
    (lambda: ring_mixture(std=float("nan")), "std"),
    (lambda: ring_mixture(std=float("inf")), "std"),
    (lambda: grid_mixture(modes=10), "perfect square"),
    (lambda: grid_mixture(spacing=-2), "spacing"),
    (lambda: grid_mixture(std=0), "std"),
])
def test_bad_mixture_parameters_refused(call, words):
    with pytest.raises(UserInputError, match=words):
        call()


def test_whole_float_modes_accepted():
    assert len(ring_mixture(modes=8.0).centers) == 8


# ----------------------------------------------------------------------------- shapes and datasets

@pytest.mark.parametrize("name", sorted(SHAPE_SAMPLERS))
def test_shapes_are_seeded_and_inside_bounds(name):
    dataset = make_dataset(name)
    first = dataset.sample(2001, np.random.default_rng(7))
    again = dataset.sample(2001, np.random.default_rng(7))
    other = dataset.sample(2001, np.random.default_rng(8))
    assert first.shape == (2001, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    xmin, xmax, ymin, ymax = dataset.bounds
    inside = (first[:, 0] > xmin) & (first[:, 0] < xmax) & (first[:, 1] > ymin) & (first[:, 1] < ymax)
    assert inside.mean() > 0.995


def test_checkerboard_only_fills_even_squares():
    points = make_dataset("checkerboard").sample(5000, np.random.default_rng(0)).astype(np.float64)
    assert np.all((np.floor(points[:, 0] / 2) + np.floor(points[:, 1] / 2)) % 2 == 0)
    assert points.min() >= -4 and points.max() <= 4


def test_circles_have_radii_three_and_one_and_a_half():
    radius = np.linalg.norm(make_dataset("circles").sample(4000, np.random.default_rng(0)), axis=1)
    assert np.median(radius[radius > 2.25]) == pytest.approx(3.0, abs=0.05)
    assert np.median(radius[radius < 2.25]) == pytest.approx(1.5, abs=0.05)


def test_spirals_arms_mirror_each_other():
    # the two arms are point reflections, so the cloud's mean is near the origin
    points = make_dataset("spirals").sample(20_000, np.random.default_rng(0))
    np.testing.assert_allclose(points.mean(axis=0), 0.0, atol=0.05)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(UserInputError, match="choose one of: ring, grid"):
        make_dataset("rings")


def test_parameter_that_does_not_apply_is_refused():
    with pytest.raises(UserInputError, match="spacing does not apply"):
        make_dataset("ring", spacing=2.0)


def test_points_dataset_needs_a_file():
    with pytest.raises(UserInputError, match="needs a file"):
        make_dataset("points")


def test_every_name_without_a_file_builds_and_samples():
    assert DATASET_NAMES == ("ring", "grid", "unbalanced", "swissroll", "moons", "circles", "checkerboard",
                             "pinwheel", "spirals", "points", "digits")
    for name in DATASET_NAMES:
        if name != "points":
            dataset = make_dataset(name)
            assert dataset.name == name
            assert dataset.sample(3, np.random.default_rng(0)).shape == (3, dataset.dim)


def test_points_dataset_standardised_and_resampled(tmp_path):
    raw = np.random.default_rng(0).normal([5, -3], [2, 0.5], size=(200, 2))
    np.save(tmp_path / "p.npy", raw)
    dataset = make_dataset("points", points_path=tmp_path / "p.npy")
    np.testing.assert_allclose(dataset.points.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(dataset.points.std(0), 1, atol=1e-5)
    draws = dataset.sample(50, np.random.default_rng(1))
    assert draws.shape == (50, 2)
    assert all(any(np.array_equal(d, p) for p in dataset.points) for d in draws)   # with replacement
    xmin, xmax, ymin, ymax = dataset.bounds
    assert xmin < dataset.points[:, 0].min() and xmax > dataset.points[:, 0].max()
    assert xmax - xmin == pytest.approx(ymax - ymin)


def test_digits():
    images, labels = load_digits_scaled()
    assert images.shape == (1797, 64) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.dtype == np.int64 and set(labels) == set(range(10))
    dataset = make_dataset("digits")
    assert dataset.dim == 64 and dataset.bounds is None and dataset.labels.shape == (1797,)
    assert dataset.sample(5, np.random.default_rng(0)).shape == (5, 64)


# ----------------------------------------------------------------------------- load_points

def test_csv_with_header(tmp_path):
    path = tmp_path / "pts.csv"
    rows = [(i * 0.5, -i) for i in range(12)]
    path.write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in rows) + "\n")
    points = load_points(path)
    assert points.dtype == np.float32
    np.testing.assert_allclose(points, rows)


def test_whitespace_separated_without_header(tmp_path):
    path = tmp_path / "pts.txt"
    path.write_text("\n".join(f"{i}\t {i + 1}" for i in range(10)))
    np.testing.assert_allclose(load_points(str(path)), [[i, i + 1] for i in range(10)])


def test_good_npy(tmp_path):
    array = np.arange(40, dtype=np.int64).reshape(20, 2)
    np.save(tmp_path / "pts.npy", array)
    np.testing.assert_array_equal(load_points(tmp_path / "pts.npy"), array.astype(np.float32))


def write_csv(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def write_bytes(path, data):
    path.write_bytes(data)
    return path


GOOD_ROWS = [f"{i},{i * 2}" for i in range(12)]


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing.csv", "not found"),
    (lambda d: d, "not a file"),
    (lambda d: write_bytes(d / "e.csv", b""), "is empty"),
    (lambda d: write_csv(d / "b.csv", ["", "  ", "# only a comment"]), "no numbers"),
    (lambda d: write_csv(d / "h.csv", ["x,y"]), "header but no rows"),
    (lambda d: write_csv(d / "t.csv", GOOD_ROWS[:5] + ["3,abc"] + GOOD_ROWS[5:]),
     "line 6, column 2: 'abc' is not a number"),
    (lambda d: write_csv(d / "one.csv", [str(i) for i in range(12)]), "found 1 columns, expected exactly 2"),
    (lambda d: write_csv(d / "three.csv", [f"{i},{i},{i}" for i in range(12)]), "found 3 columns"),
    (lambda d: write_csv(d / "gap.csv", GOOD_ROWS + ["1,"]), "'' is not a number"),
    (lambda d: write_csv(d / "nan.csv", GOOD_ROWS + ["nan,1"]), "NaN, infinite"),
    (lambda d: write_csv(d / "inf.csv", GOOD_ROWS + ["1,inf"]), "NaN, infinite"),
    (lambda d: write_csv(d / "huge.csv", GOOD_ROWS + ["1,1e39"]), "beyond float32"),
    (lambda d: write_csv(d / "few.csv", GOOD_ROWS[:9]), "has 9 points; at least 10"),
])
def test_bad_text_files_refused(tmp_path, make, words):
    path = make(tmp_path)
    with pytest.raises(UserInputError, match=words) as error:
        load_points(path)
    assert "\n" not in str(error.value)


def test_binary_garbage_refused(tmp_path):
    path = write_bytes(tmp_path / "garbage.csv", bytes(range(256)) * 4)
    with pytest.raises(UserInputError, match="binary"):
        load_points(path)


def test_non_utf8_refused(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"x,y\n" + "é,1\n".encode("latin-1"))
    with pytest.raises(UserInputError, match="not UTF-8"):
        load_points(path)


def test_pickled_object_npy_refused_without_unpickling(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(UserInputError, match="Python objects"):
        load_points(path)


def test_plain_pickle_named_npy_refused(tmp_path):
    path = tmp_path / "evil.npy"
    path.write_bytes(pickle.dumps([[1, 2]] * 20))
    with pytest.raises(UserInputError, match="not a valid .npy"):
        load_points(path)


@pytest.mark.parametrize("array, words", [
    (np.zeros((20, 3)), r"shape \(20, 3\)"),
    (np.zeros(40), r"shape \(40,\)"),
    (np.array(["a", "b"] * 20).reshape(20, 2), "expected real numbers"),
    (np.ones((20, 2), dtype=bool), "expected real numbers"),
    (np.full((20, 2), np.nan), "NaN"),
    (np.zeros((5, 2)), "at least 10"),
    (np.zeros((MAX_POINTS + 1, 2), dtype=np.float32), "at most 1,000,000"),
])
def test_bad_npy_refused(tmp_path, array, words):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(UserInputError, match=words):
        load_points(path)


def test_too_many_csv_rows_refused(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("0 1\n" * (MAX_POINTS + 2))
    with pytest.raises(UserInputError, match="at most 1,000,000"):
        load_points(path)


def test_standardise():
    points = np.array([[1.0, 10.0], [3.0, 10.5], [5.0, 12.0]] * 4)
    out, mean, std = standardise(points)
    np.testing.assert_allclose(mean, [3.0, 10.833333333])
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-6)
    np.testing.assert_allclose(out * std + mean, points, rtol=1e-6)


def test_standardise_refuses_constant_column():
    with pytest.raises(UserInputError, match="column 2 has the same value"):
        standardise(np.stack([np.arange(20.0), np.full(20, 3.0)], 1))
