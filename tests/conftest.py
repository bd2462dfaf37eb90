"""Shared test setup: the repository root on sys.path, and one torch thread.

One thread keeps the suite light on small machines and makes CPU results independent of how
many cores the machine has.
"""
import os
import sys
import tempfile

import pytest
import torch
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

torch.set_num_threads(1)
# Hypothesis keeps its example database and caches outside the repository
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "energylab-hypothesis"))


@pytest.fixture(scope="session")
def repo_root() -> str:
    """The repository root, where `python -m explorer.train` is run from."""
    return ROOT
