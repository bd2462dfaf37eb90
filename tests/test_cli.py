"""The command-line tools as a user runs them: `python -m explorer.train` and `python -m explorer.evaluate`
in a subprocess from the repository root. Good runs write and report what they promise; bad input
ends with a non-zero status and one line on stderr, never a traceback."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from explorer.config.presets import PRESETS

TINY = ["--steps", "30", "--batch-size", "32", "--hidden", "16", "--quiet"]
EVALUATE_KEYS = {"modes_covered", "modes_total", "high_quality_fraction", "nll", "log_z", "mass_outside",
                 "kl_true_to_model", "energy_real_mean", "energy_fake_mean"}


@pytest.fixture(scope="module")
def cli(repo_root):
    """cli("train", *args) -> CompletedProcess, run from the repository root on one CPU thread."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}

    def run(tool, *args):
        return subprocess.run([sys.executable, "-m", f"explorer.{tool}", *map(str, args)], cwd=repo_root, env=env,
                              capture_output=True, text=True, timeout=120)
    return run


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


def write_points(path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal([10, 100], [1, 5], size=(n // 2, 2)),
                        rng.normal([14, 80], [1, 5], size=(n - n // 2, 2))])
    np.savetxt(path, x, delimiter=",", header="x,y", comments="")
    return path


def assert_clean_failure(result, prog):
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{prog}: error: ")
    return lines[0]


# ----------------------------------------------------------------------------- good runs


def test_help_names_the_choices_and_defaults(cli):
    result = cli("train", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())   # argparse wraps lines
    assert "one of: ring, grid, unbalanced," in text and "default ring)" in text
    assert "one of: batchnorm, knn, pullaway, none, vera, mi; default knn)" in text
    assert "one of: generator, langevin; default generator)" in text
    assert "cpu or cuda (default auto)" in text
    assert "training iterations (1 to 1,000,000; default 3,000)" in text


def test_list_presets_one_a_line(cli):
    result = cli("train", "--list-presets")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)


@pytest.fixture(scope="module")
def ring_run(cli, work):
    out = work / "ring"
    result = cli("train", "--dataset", "ring", *TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_train_writes_checkpoint_and_metrics(ring_run):
    assert {"config.json", "model.safetensors", "metrics.json"} <= set(os.listdir(ring_run))
    config = json.loads((ring_run / "config.json").read_text())
    assert config["options"]["steps"] == 30 and config["options"]["hidden"] == 16
    assert config["step"] == 30
    metrics = json.loads((ring_run / "metrics.json").read_text())
    assert metrics["steps"] == 30 and metrics["modes_total"] == 8
    assert math.isfinite(metrics["nll"])


def test_evaluate_prints_one_json_object(cli, ring_run):
    result = cli("evaluate", ring_run, "--samples", 500)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert isinstance(report, dict)
    assert EVALUATE_KEYS <= set(report), EVALUATE_KEYS - set(report)
    assert report["modes_total"] == 8 and 0 <= report["modes_covered"] <= 8
    assert 0.0 <= report["mass_outside"] <= 1.0
    assert all(math.isfinite(report[k]) for k in EVALUATE_KEYS)


def test_digits_tiny_run_reports_classes(cli, work):
    out = work / "digits"
    result = cli("train", "--dataset", "digits", "--steps", 10, "--hidden", 16, "--quiet", "--out", out)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert 1 <= metrics["classes_covered"] <= 10
    assert 0.0 <= metrics["class_kl_uniform"] <= math.log(10) + 1e-9


def test_points_train_then_evaluate_heldout(cli, work):
    train_csv = write_points(work / "train.csv")
    heldout = write_points(work / "heldout.csv", n=40, seed=1)
    out = work / "points"
    result = cli("train", "--dataset", "points", "--points", train_csv, *TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "config.json").read_text())["data"]
    np.testing.assert_allclose(data["offset"], [12, 90], atol=1.5)  # the standardisation is kept
    result = cli("evaluate", out, "--points", heldout, "--samples", 500)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert math.isfinite(report["nll"])


# ----------------------------------------------------------------------------- bad input


def bad_points(work, kind):
    path = work / f"bad-{kind}.csv"
    if kind == "text":
        path.write_text("x,y\n" + "".join(f"{i},{i * 2}\n" for i in range(20)) + "hello,3\n")
    elif kind == "one-column":
        path.write_text("".join(f"{i}\n" for i in range(20)))
    elif kind == "empty":
        path.write_text("")
    return path


TRAIN_FAILURES = [
    (["--dataset", "nowhere"], "--dataset"),
    (["--std", "-1"], "--std"),
    (["--std", "0"], "--std"),
    (["--steps", "-5"], "--steps"),
    (["--steps", "many"], "--steps"),
    (["--batch-size", "0"], "--batch-size"),
    (["--energy-magnitude", "-1"], "--energy-magnitude"),
    (["--spectral-norm", "maybe"], "--spectral-norm"),
    ("text", "not a number"),
    ("one-column", "columns"),
    ("empty", "empty"),
    (["--device", "cuda"], "cuda"),
]


@pytest.mark.parametrize("args, says", TRAIN_FAILURES,
                         ids=[a if isinstance(a, str) else " ".join(a) for a, _ in TRAIN_FAILURES])
def test_train_bad_input_fails_in_one_line(cli, work, args, says):
    if args == ["--device", "cuda"] and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    if isinstance(args, str):
        args = ["--dataset", "points", "--points", bad_points(work, args)]
    out = work / f"never-{abs(hash(tuple(map(str, args))))}"
    result = cli("train", *TINY, *args, "--out", out)  # the bad flag comes last, so it wins
    line = assert_clean_failure(result, "explorer.train")
    assert says in line
    assert not out.exists()


def test_evaluate_refuses_a_folder_that_is_not_a_checkpoint(cli, work):
    folder = work / "not-a-checkpoint"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    line = assert_clean_failure(cli("evaluate", folder), "explorer.evaluate")
    assert "config.json" in line


def test_knn_entropy_trains_on_the_smallest_batch(cli, work):
    result = cli("train", "--dataset", "ring", "--entropy", "knn", "--batch-size", 3, "--steps", 5,
                 "--hidden", 8, "--quiet", "--out", work / "knn-batch3")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("data, says", [
    ({"dim": 2, "bounds": [-3, 3]}, "data.bounds"),
    ("box", "'data' must be an object"),
    ({"dim": 2, "bounds": [-3, 3, -3, 3], "offset": [0, 0]}, "come together"),
])
def test_evaluate_refuses_a_hand_edited_data_record(cli, work, ring_run, data, says):
    folder = work / f"edited-{abs(hash(str(data)))}"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes((ring_run / "model.safetensors").read_bytes())
    config = json.loads((ring_run / "config.json").read_text())
    config["data"] = data
    (folder / "config.json").write_text(json.dumps(config))
    assert says in assert_clean_failure(cli("evaluate", folder), "explorer.evaluate")
