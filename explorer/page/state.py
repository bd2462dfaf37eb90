"""What one browser page remembers: its training session, and the page's own choices beside it.

The UI keeps one PageState per page (in its gr.State, made by the page's first event); plain
Python, so that the page's logic is tested without a browser.

On a busy machine the page's run may wait in line for a place (explorer/training/turns.py). A
pretrained pair shown meanwhile does not cost it its place: the run steps `aside`, still in line,
and the page shows the pair in a session of its own; when the run's turn comes, its stream brings
it back (`bring_back`). Whatever else acts on the page's run (Train, Reset, Step, Pause, Stop, an
upload, a lesson step's run, Compare) ends the run waiting aside first (`end_aside`): a page has one run.
"""
from __future__ import annotations

import shutil
import tempfile

from explorer.page.compare import Comparison
from explorer.page.densities import DensityState
from explorer.page.points import PagePoints
from explorer.page.replay_cursor import ReplayCursor
from explorer.page.small_study import SmallStudy
from explorer.page.train_clicks import TrainClicks
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
        self.aside: LiveSession | None = None   # the page's run, waiting in line while the page shows a pair
        self.link_problem: str | None = None    # what the link the page opened got wrong: said until the user acts
        self.link_tab: str | None = None        # the tab that link opened: its first draw is the link's own
        self.train_clicks = TrainClicks()       # which clicks on Train the page held still count
        self.compare_clicks = TrainClicks()     # ... and on the Compare tab's Train both

    def step_aside(self) -> None:
        """Before a pretrained pair is shown: a run waiting in line keeps its place, aside."""
        if self.aside is None and self.live.waiting() is not None:
            shown = LiveSession(device=self.live.device, turns=self.live.turns)
            shown.layers = self.live.layers
            self.aside, self.live = self.live, shown
            self.replay_cursor = ReplayCursor()

    def bring_back(self, run: LiveSession) -> bool:
        """`run`, waiting aside, got its place: it is the page's run again, and the pair shown
        meanwhile is dropped. Returns whether it was aside."""
        if self.aside is not run:
            return False
        shown, self.live, self.aside = self.live, run, None
        self.replay_cursor = ReplayCursor()
        shown.close()
        return True

    def end_aside(self) -> None:
        """The page acts on its run: one waiting aside leaves the line."""
        aside, self.aside = self.aside, None
        if aside is not None:
            aside.close()

    def opened_link(self, problem: str | None, tab: str) -> None:
        """A link (or a lesson step) set the page up and opened `tab`; `problem`: what the link got
        wrong, which the status line keeps saying until the user's next action."""
        self.link_problem, self.link_tab = problem, tab if problem else None

    def link_problem_kept(self, tab: str | None = None) -> str | None:
        """The link's problem, for a status line drawn now. The first draw of the tab the link opened
        (its select event, which the link's opening fires) is still the link's doing and keeps it;
        any other status line is the user's next action, and ends it."""
        if tab is not None and tab == self.link_tab:
            self.link_tab = None
            return self.link_problem
        self.link_problem = self.link_tab = None
        return None

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
        self.end_aside()
        self.live.close()
        if self.comparison is not None:
            self.comparison.close()
            self.comparison = None
        if self.small_study is not None:
            self.small_study.close()
        self.views = ViewState()
        self.points = None
        shutil.rmtree(self.export_dir, ignore_errors=True)
