"""Model selection on a validation split of small point sets."""
import numpy as np
import torch

from explorer.config.options import resolve
from explorer.data.datasets import make_dataset
from explorer.training.early_stopping import BestOnValidation, split_validation
from explorer.training.run import Run
from models import DeepEnergy, EnergyConfig, Generator, GeneratorConfig


def points_file(tmp_path, n=300):
    path = tmp_path / "points.csv"
    np.savetxt(path, np.random.default_rng(0).normal(size=(n, 2)), delimiter=",")
    return str(path)


def test_split_holds_out_a_tenth_of_user_points_and_nothing_of_mixtures(tmp_path):
    dataset = make_dataset("points", points_path=points_file(tmp_path))
    train, validation = split_validation(dataset, seed=0)
    assert len(validation) == 30 and len(train.points) == 270
    rows = {tuple(p) for p in train.points}
    assert not any(tuple(p) in rows for p in validation)  # disjoint
    ring = make_dataset("ring")
    assert split_validation(ring, seed=0) == (ring, None)
    few = make_dataset("points", points_path=points_file(tmp_path, n=50))
    assert split_validation(few, seed=0)[1] is None


def test_best_on_validation_keeps_and_restores_the_better_pair():
    validation = np.random.default_rng(1).normal(size=(200, 2)).astype(np.float32)
    energy, generator = DeepEnergy(EnergyConfig(hidden=8, experts=8)), Generator(GeneratorConfig(hidden=8))
    selector = BestOnValidation(validation, (-6.0, 6.0, -6.0, 6.0))
    with torch.no_grad():  # a standard-normal-like prior: good for N(0, I) data
        energy.experts.weight.zero_()
        energy.log_sigma.fill_(np.log(np.sqrt(2.0)))
    good = selector.check(10, energy, generator)
    kept = {k: v.clone() for k, v in energy.state_dict().items()}
    with torch.no_grad():  # a far too narrow prior: clearly worse
        energy.log_sigma.fill_(np.log(0.1))
    worse = selector.check(20, energy, generator)
    assert worse > good + 1.0
    assert selector.restore(energy, generator) == 10
    assert all(torch.equal(kept[k], v) for k, v in energy.state_dict().items())


def test_a_points_run_records_validation_nll_and_selects_a_step(tmp_path):
    run = Run(resolve(given={"dataset": "points", "points": points_file(tmp_path), "steps": 200,
                             "hidden": 8, "batch_size": 32}))
    run.advance(200)
    steps, values = zip(*run.history["validation_nll"], strict=True)
    assert steps == (100, 200) and all(np.isfinite(values))
    assert run.finish() in (100, 200)
