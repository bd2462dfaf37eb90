"""What one browser page remembers: its training session, and the page's own choices beside it.

The UI keeps one PageState per page (in its gr.State, made by the page's first event); plain
Python, so that the page's logic is tested without a browser.
"""
from __future__ import annotations

import shutil
import tempfile

from explorer.page.compare import Comparison
from explorer.page.densities import DensityState
from explorer.page.points import PagePoints
from explorer.page.replay_cursor import ReplayCursor
from explorer.page.small_study import SmallStudy
from explorer.page.views import ViewState
from explorer.training.live import LiveSession

# the landscape's view and layers: what figures.landscape_figure takes
DEFAULT_VIEW = {"view": "energy", "show_data": True, "show_samples": True, "show_arrows": False, "show_latent": False}


class PageState:
    """A page's training session (`live`: its run and training thread) and what the page
    remembers: the chosen view, the points it brought, a folder for its downloads, the views'
    caches, the Compare tab's two runs, the replay slider, the Densities tab's cache and the
    Studies tab's small study."""

    def __init__(self, device: str = "auto"):
        self.live = LiveSession(device=device)
        self.view = dict(DEFAULT_VIEW)
        self.points: PagePoints | None = None
        self.export_dir = tempfile.mkdtemp(prefix="energylab-session-")
        self.views = ViewState()
        self.comparison: Comparison | None = None
        self.replay_cursor = ReplayCursor()
        self.densities = DensityState()
        self.small_study: SmallStudy | None = None

    def choose_view(self, view: str, layers) -> None:
        """The landscape's view and its layers (names of explorer/page/lesson.py LAYERS); the
        optional probes (arrows, latent grid) are computed only while shown."""
        self.view = {"view": view, "show_data": "data" in layers, "show_samples": "samples" in layers,
                     "show_arrows": "arrows" in layers, "show_latent": "latent" in layers}
        self.live.layers = {"arrows": "arrows" in layers, "latent": "latent" in layers}

    def set_view(self, view, show_data, show_samples, show_arrows, show_latent) -> bool:
        """The landscape's controls changed; returns False when the page already shows that (a
        lesson step or a link set them). A layer shown anew is probed at once unless training."""
        chosen = {"view": view, "show_data": show_data, "show_samples": show_samples,
                  "show_arrows": show_arrows, "show_latent": show_latent}
        layers = {"arrows": bool(show_arrows), "latent": bool(show_latent)}
        if chosen == self.view and layers == self.live.layers:
            return False
        self.view = chosen
        if layers != self.live.layers:
            self.live.layers = layers
            if not self.live.training:   # the next frame of a live run brings them anyway
                self.live.publish(fine=True)
        return True

    def shown_pair(self) -> str | None:
        """The pretrained pair the page shows, if it shows one."""
        source = self.live.source or ""
        return source.removeprefix("pretrained: ") if source.startswith("pretrained: ") else None

    def close(self) -> None:
        """The page is gone: stop its training and its study, drop its pairs and caches, remove its downloads."""
        self.live.close()
        if self.comparison is not None:
            self.comparison.close()
            self.comparison = None
        if self.small_study is not None:
            self.small_study.close()
        self.views = ViewState()
        self.points = None
        shutil.rmtree(self.export_dir, ignore_errors=True)
