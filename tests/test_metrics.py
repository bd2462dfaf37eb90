"""Each metric against a case whose answer is known in closed form."""
import math

import numpy as np
import pytest
from scipy.special import erf

from explorer.data.datasets import make_dataset
from explorer.data.digits import load_digits_scaled
from explorer.data.mixtures import ring_mixture
from explorer.measures.metrics import (
    DigitsClassifier,
    energy_histograms,
    grid_divergences,
    grid_log_partition,
    histogram_overlap,
    mode_coverage,
    nll,
)

# ----------------------------------------------------------------------------- mode coverage

RING = ring_mixture(modes=8, radius=2.0, std=0.05)


def test_samples_on_three_centres_cover_three_modes():
    samples = np.repeat(RING.centers[[0, 3, 5]], 10, axis=0)
    assert mode_coverage(samples, RING.centers, RING.std) == {
        "modes_covered": 3, "modes_total": 8, "high_quality_fraction": 1.0}


def test_far_samples_cover_nothing():
    samples = np.full((100, 2), 10.0)
    assert mode_coverage(samples, RING.centers, RING.std) == {
        "modes_covered": 0, "modes_total": 8, "high_quality_fraction": 0.0}


def test_three_std_threshold():
    direction = np.array([0.6, 0.8])                       # a unit vector off the axes
    inside = RING.centers[0] + 2.9 * RING.std * direction
    outside = RING.centers[1] + 3.1 * RING.std * direction
    result = mode_coverage(np.stack([inside, outside]), RING.centers, RING.std)
    assert result["modes_covered"] == 1 and result["high_quality_fraction"] == 0.5


def test_true_samples_cover_every_mode_and_nan_never_counts():
    samples = RING.sample(2500, np.random.default_rng(0))
    result = mode_coverage(samples, RING.centers, RING.std)
    assert result["modes_covered"] == 8
    assert result["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)   # P(|N(0,I)| <= 3)
    samples[:1250] = np.nan
    assert mode_coverage(samples, RING.centers, RING.std)["high_quality_fraction"] == pytest.approx(
        (1 - math.exp(-4.5)) / 2, abs=0.01)


# ----------------------------------------------------------------------------- log Z and mass outside

def gaussian_energy(s):
    return lambda x: (x.astype(np.float64) ** 2).sum(1) / (2 * s**2)     # E = |x|^2 / (2 s^2)


def test_gaussian_log_z():
    s = 0.7
    result = grid_log_partition(gaussian_energy(s), (-6, 6, -6, 6), resolution=200)
    assert result["log_z"] == pytest.approx(math.log(2 * math.pi * s**2), rel=1e-3)   # Z = 2 pi s^2
    assert result["mass_outside"] < 1e-9
    assert result["energy"].shape == (200, 200) and result["xs"].shape == (200,)
    assert result["cell_area"] == pytest.approx((12 / 200) ** 2)


def test_energy_grid_rows_are_y():
    result = grid_log_partition(lambda x: x[:, 1].astype(np.float64), (0, 1, 10, 20), resolution=4)
    np.testing.assert_allclose(result["ys"], [11.25, 13.75, 16.25, 18.75])
    np.testing.assert_allclose(result["energy"][:, 0], result["ys"])
    np.testing.assert_allclose(result["energy"][0], result["ys"][0])


@pytest.mark.parametrize("c", [2.0, -1.5])
def test_mixture_energy_log_z_is_minus_c(c):
    dataset = make_dataset("ring")                          # std 0.05, bounds [-3, 3]^2
    energy = lambda x: -dataset.mixture.log_density(x) + c   # exp(-E) = p(x) exp(-c)
    assert grid_log_partition(energy, dataset.bounds)["log_z"] == pytest.approx(-c, rel=1e-3)


def test_mass_outside_a_box_that_cuts_a_gaussian():
    # unit Gaussian, box [-1, 1]^2, outer box [-3, 3]^2: each axis holds erf(a / sqrt 2) of the mass
    result = grid_log_partition(gaussian_energy(1.0), (-1, 1, -1, 1), resolution=300, outer_factor=3.0)
    inside, within_outer = erf(1 / math.sqrt(2)) ** 2, erf(3 / math.sqrt(2)) ** 2
    assert result["mass_outside"] == pytest.approx(1 - inside / within_outer, rel=1e-3)   # 0.531
    assert result["log_z"] == pytest.approx(math.log(2 * math.pi * inside), rel=1e-3)
    # the box plus the ring around it recovers the mass within the outer box
    assert result["log_z_total"] == pytest.approx(math.log(2 * math.pi * within_outer), rel=1e-3)


def test_nll_of_a_gaussian():
    # -log N(x; 0, s^2 I) = |x|^2 / (2 s^2) + log(2 pi s^2)
    s, x = 0.5, np.array([[0.0, 0.0], [1.0, 0.0]])
    energies = gaussian_energy(s)(x)
    assert nll(energies, math.log(2 * math.pi * s**2)) == pytest.approx(
        np.mean([0.0, 2.0]) + math.log(2 * math.pi * s**2))


# ----------------------------------------------------------------------------- divergences on a grid

def gaussian_log_density_on_grid(mean, s, res=400, half=8.0):
    xs = -half + 2 * half / res * (np.arange(res) + 0.5)
    gx, gy = np.meshgrid(xs, xs)
    log_p = -((gx - mean[0]) ** 2 + (gy - mean[1]) ** 2) / (2 * s**2) - math.log(2 * math.pi * s**2)
    return log_p, (2 * half / res) ** 2


def test_identical_densities_have_zero_divergence():
    log_p, area = gaussian_log_density_on_grid((0, 0), 1.0)
    result = grid_divergences(log_p, log_p + 3.0, area)      # an unnormalised copy is the same density
    assert result["kl_true_to_model"] == pytest.approx(0.0, abs=1e-12)
    assert result["total_variation"] == pytest.approx(0.0, abs=1e-12)


def test_shifted_gaussians_known_kl_and_tv():
    s = 1.0
    log_p, area = gaussian_log_density_on_grid((0, 0), s)
    log_q, _ = gaussian_log_density_on_grid((1, 0), s)
    result = grid_divergences(log_p, log_q, area)
    assert result["kl_true_to_model"] == pytest.approx(1.0 / (2 * s**2), rel=0.01)   # |mu1-mu2|^2 / (2 s^2)
    assert result["total_variation"] == pytest.approx(erf(1.0 / (2 * math.sqrt(2) * s)), rel=0.01)  # 2 Phi(d/2s) - 1


def test_model_with_zero_density_where_truth_has_mass_is_infinite_kl():
    log_p, area = gaussian_log_density_on_grid((0, 0), 1.0, res=20)
    log_q = log_p.copy()
    log_q[10, 10] = -np.inf
    assert grid_divergences(log_p, log_q, area)["kl_true_to_model"] == np.inf
    assert np.isfinite(grid_divergences(log_q, log_p, area)["kl_true_to_model"])


# ----------------------------------------------------------------------------- histograms

def test_histogram_overlap_identical_and_disjoint():
    values = np.random.default_rng(0).normal(size=1000)
    assert histogram_overlap(values, values) == pytest.approx(1.0)
    assert histogram_overlap(values, values + 100.0) == 0.0


def test_histogram_overlap_of_half_shifted_uniform_bins():
    # three bins over [0, 3]: a puts 2/3, 1/3, 0 in them and b 0, 1/3, 2/3; they share 1/3
    a, b = np.array([0.5, 1.5, 0.0]), np.array([1.5, 2.5, 3.0])
    assert histogram_overlap(a, b, bins=3) == pytest.approx(1 / 3)


def test_energy_histograms_share_edges():
    rng = np.random.default_rng(0)
    real, fake, noise = rng.normal(0, 1, 500), rng.normal(0, 1, 300), rng.normal(10, 1, 200)
    result = energy_histograms(real, np.append(fake, np.inf), noise, bins=40)
    assert result["edges"].shape == (41,)
    assert result["edges"][0] == min(real.min(), fake.min(), noise.min())
    assert result["edges"][-1] == max(real.max(), fake.max(), noise.max())
    assert (result["counts_real"].sum(), result["counts_fake"].sum(), result["counts_noise"].sum()) == (500, 300, 200)
    assert result["overlap_real_fake"] == histogram_overlap(real, fake, bins=40)
    assert 0.8 < result["overlap_real_fake"] < 1.0


# ----------------------------------------------------------------------------- digits classifier

@pytest.fixture(scope="module")
def classifier():
    return DigitsClassifier()


def test_classifier_accuracy(classifier):
    assert classifier.accuracy > 0.9


def test_real_digits_cover_all_classes(classifier):
    images, labels = load_digits_scaled()
    report = classifier.class_report(images)
    assert report["classes_covered"] == 10
    assert report["class_kl_uniform"] < 0.01
    assert sum(report["class_counts"]) == 1797
    assert np.mean(classifier.predict(images) == labels) > 0.95


def test_one_image_repeated_is_one_class(classifier):
    images, _ = load_digits_scaled()
    report = classifier.class_report(np.repeat(images[:1], 100, axis=0))
    assert report["classes_covered"] == 1
    assert report["class_kl_uniform"] == pytest.approx(math.log(10))
    assert sorted(report["class_counts"]) == [0] * 9 + [100]


def test_two_equal_classes_kl(classifier):
    images, labels = load_digits_scaled()
    pair = np.concatenate([images[labels == 0][:50], images[labels == 1][:50]])
    np.testing.assert_array_equal(classifier.predict(pair), [0] * 50 + [1] * 50)
    assert classifier.class_report(pair)["class_kl_uniform"] == pytest.approx(math.log(5))  # 2 * 0.5 log(0.5 / 0.1)
