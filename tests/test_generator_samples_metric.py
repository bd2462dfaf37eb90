"""The generator's own samples G(z), scored beside the model's samples: the same samples for the
paper's method, G(z) before refinement and resampling for EnergyLab's."""
import numpy as np
import torch

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.measures import metrics
from explorer.measures.evaluation import evaluate_pair, model_samples
from explorer.training.run import Run


def scores(options: dict) -> tuple[Run, dict]:
    run = Run(options)
    run.advance(20)
    return run, evaluate_pair(run.energy, run.generator, run.options, run.dataset, samples=400, seed=3,
                              weights=False)


def test_the_papers_method_scores_the_same_samples_twice():
    _, result = scores(resolve(preset_options("paper"), {"hidden": 32, "batch_size": 64, "steps": 20}))
    assert result["modes_covered_generator"] == result["modes_covered"]
    assert result["high_quality_fraction_generator"] == result["high_quality_fraction"]


def test_energylabs_method_scores_g_of_z_before_refinement_and_resampling():
    options = resolve(None, {"dataset": "ring", "hidden": 32, "batch_size": 64, "steps": 20})
    assert options["refine"] and options["sampler"] == "generator"
    run, result = scores(options)
    own = run.generator.sample(400, torch.Generator().manual_seed(3)).numpy()
    expected = metrics.mode_coverage(own, run.dataset.mixture.centers, run.dataset.mixture.std)
    assert result["modes_covered_generator"] == expected["modes_covered"]
    assert result["high_quality_fraction_generator"] == expected["high_quality_fraction"]
    # and the model's samples, which the other columns score, are others: refined and resampled
    fake = model_samples(run.energy, run.generator, run.options, 400, 3, run.dataset.bounds)
    assert fake.shape == own.shape and not np.allclose(fake, own)
