"""The hostile and broken corpus (tests/hostile/, written by tests/hostile/make_corpus.py): every
file is refused with a clear one-line message, nothing is unpickled, nothing is written outside the
upload's own folder, and refusing costs no memory spike."""
import os
import subprocess
import sys

import numpy as np
import pytest

from explorer.data.points import MAX_POINTS, load_points
from explorer.errors import UserInputError
from explorer.pairs.files import unpack_upload
from models import CheckpointError, load_pair

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")
PAIRS = sorted(os.listdir(os.path.join(HERE, "pairs")))
POINTS = sorted(os.listdir(os.path.join(HERE, "points")))
MARKER = "ENERGYLAB-UNPICKLED"


def open_pair(path: str):
    """What the app does with an uploaded pair: unpack it safely, then load it strictly."""
    folder, _ = unpack_upload([path])
    return load_pair(folder)


@pytest.mark.parametrize("name", PAIRS)
def test_every_hostile_pair_is_refused_with_a_clear_message(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # where an unpickled marker or a traversing entry would land
    with pytest.raises((CheckpointError, UserInputError)) as refused:
        open_pair(os.path.join(HERE, "pairs", name))
    message = str(refused.value)
    assert message and "\n" not in message and "Traceback" not in message
    assert not os.path.exists(MARKER), "a file was unpickled"
    assert not any(tmp_path.iterdir()), "something was written outside the upload folder"
    assert not os.path.exists("/tmp/energylab-absolute.txt")


@pytest.mark.parametrize("name, says", [
    ("pickle-as-safetensors.zip", "safetensors"), ("zip-bomb.zip", "MiB"),
    ("truncated-weights.zip", "truncated"), ("header-claims-gigabytes.zip", "header claims"),
    ("wrong-shapes.zip", "the config needs"), ("wrong-dtype.zip", "F64"), ("nan-weights.zip", "NaN"),
    ("huge-layers.zip", "at most"), ("path-traversal.zip", "unexpected entry"), ("config-huge.zip", "at most"),
])
def test_refusals_say_what_was_wrong(name, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises((CheckpointError, UserInputError), match=says):
        open_pair(os.path.join(HERE, "pairs", name))


def test_refusing_the_corpus_costs_no_memory_spike():
    """Peak resident memory of a fresh process that refuses every file, against its peak after the
    imports alone: a loaded gigabyte header or an inflated bomb would show here."""
    script = f"""
import os, resource, sys, tempfile
from explorer.pairs.files import unpack_upload
from models import load_pair
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
os.chdir(tempfile.mkdtemp())
for name in sorted(os.listdir({os.path.join(HERE, 'pairs')!r})):
    try:
        folder, _ = unpack_upload([os.path.join({os.path.join(HERE, 'pairs')!r}, name)])
        load_pair(folder)
        print("ACCEPTED", name)
    except ValueError:
        pass
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=os.path.dirname(os.path.dirname(HERE)),
                         capture_output=True, text=True, check=True).stdout
    assert "ACCEPTED" not in out
    grown_mb = float(out.strip().splitlines()[-1])
    assert grown_mb < 25, f"peak memory grew by {grown_mb:.0f} MB while refusing the corpus"


@pytest.mark.parametrize("name", POINTS)
def test_every_broken_points_file_is_refused_with_a_clear_message(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserInputError) as refused:
        load_points(os.path.join(HERE, "points", name))
    assert "\n" not in str(refused.value)
    assert not os.path.exists(MARKER)


def test_a_million_rows_are_accepted_and_one_more_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "million.npy"
    np.save(path, rng.normal(size=(MAX_POINTS, 2)).astype(np.float32))
    assert load_points(path).shape == (MAX_POINTS, 2)
    np.save(path, rng.normal(size=(MAX_POINTS + 1, 2)).astype(np.float32))
    with pytest.raises(UserInputError, match="at most"):
        load_points(path)
    text = tmp_path / "million.csv"
    text.write_text("x,y\n" + "1.5,-2.25\n" * (MAX_POINTS + 1))
    with pytest.raises(UserInputError, match="at most"):
        load_points(text)


def test_the_app_refuses_each_hostile_pair_and_keeps_working(app_url):
    from gradio_client import Client, handle_file
    client = Client(app_url, verbose=False)
    for name in PAIRS:
        outputs = client.predict([handle_file(os.path.join(HERE, "pairs", name))], api_name="/upload_pair")
        assert "⚠️" in outputs[3], f"{name} was not refused in the page: {outputs[3]}"
    outputs = client.predict("ring", api_name="/choose_pretrained")
    assert "pretrained: ring" in outputs[3]
