"""The views' speed targets (issue 5), in a fresh process, as the app computes them.

    python -m benchmarks.views_speed

Prints, for pretrained pairs: gallery and interpolation times (target < 1 s), and the UMAP of
real + 2,000 generated digits the first time in this process (target < 30 s) and cached (< 1 s).
Digits have 1,797 real images; the UMAP is also timed on 2,000 real (203 drawn twice) to match the
target's count. Run it alone: two processes share only two cores here.
"""
from __future__ import annotations

import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from explorer.measures.embedding import embed
    from explorer.page import views
    from explorer.pairs import catalogue
    from explorer.training.live import LiveSession

    session = LiveSession(device="cpu")
    for name in ("ring", "lesson-no-entropy", "digits", "digits-lesson-no-entropy"):
        pair = catalogue.find(name)
        session.load(str(pair.folder), name, catalogue.points_path(pair.folder))
        state = views.ViewState()
        started = time.perf_counter()
        views.gallery(session, state, 64, 0, True).to_json()
        gallery = time.perf_counter() - started
        started = time.perf_counter()
        views.interpolation(session, state, "gallery", 0, 1, 0, 24, "spherical").to_json()
        interpolation = time.perf_counter() - started
        print(f"{name}: gallery {gallery:.2f} s, interpolation {interpolation:.2f} s (targets < 1 s)")

    state = views.ViewState()
    started = time.perf_counter()
    figure, result = views.embedding(session, state, "class")
    figure.to_json()
    first = time.perf_counter() - started
    started = time.perf_counter()
    views.embedding(session, state, "source")[0].to_json()
    cached = time.perf_counter() - started
    print(f"UMAP of {len(result.real):,} real + {len(result.fake):,} generated digits: {first:.1f} s the first time "
          f"in this process (target < 30 s), {cached:.2f} s cached (target < 1 s)")
    real = session.run.dataset.points[np.random.default_rng(0).integers(0, len(session.run.dataset.points), 2000)]
    started = time.perf_counter()
    embed(real, result.fake, seed=0)
    print(f"UMAP of 2,000 real (with repeats) + 2,000 generated, fresh layout: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
