"""EnergyLab: an interactive explorer of Kim & Bengio (2016), deep directed generative models with
energy-based probability estimation. `python app.py` opens it in the browser.

Layout and thin handlers only; the logic lives in explorer/ (runs, probes, figures, controls).
Each browser session owns one `Session` (its run and training thread), kept in gr.State: made by
the first handler that runs, returned with every frame.
"""
from __future__ import annotations

import argparse
import functools
import html
import json
import logging
import os
import shutil
import sys
import tempfile
import time

import gradio as gr
from starlette.middleware import Middleware

from explorer.command_line import set_threads
from explorer.config.options import DATASET_DEFAULTS, OPTION_BY_NAME, resolve
from explorer.config.presets import PRESETS, preset_options
from explorer.data import drawing
from explorer.data.datasets import DATASET_NAMES, load_points
from explorer.errors import UserInputError, expected_errors
from explorer.figures import compare as compare_figures
from explorer.figures import densities as density_figures
from explorer.figures import frame as figures
from explorer.figures import views as view_figures
from explorer.page import compare, controls, export, lesson, views
from explorer.page import densities as density_tab
from explorer.page import links as share
from explorer.pairs import catalogue
from explorer.pairs import files as pair_files
from explorer.training import replay as replay_mod
from explorer.training.capacity import REQUESTS_FIRST, NewPagesFirst
from explorer.training.live import FRAME_SECONDS, LiveSession
from explorer.training.run import LIVE_SETTINGS

log = logging.getLogger("energylab")
EXPECTED = expected_errors()
DEFAULT_PAIR = "ring"
UMAP_NOTE = """**What UMAP shows, and what it does not.** Real data and generated samples are embedded together,
from their 15 nearest neighbours in data space. Points close in the plot are close in data space;
distances between clusters, their sizes and densities are *not* faithful. A collapsed generator shows
as generated points piled on a few islands, leaving real clusters without generated points; generated
points far from every real one are samples unlike any real one. For digits, hover a point to see its
image. Computed on demand, cached for the pair at this step; a later step of the same run starts from the last layout."""
STEP_CHOICES = (1, 10, 100, 1000)
# uploads: points files are at most 100 MiB (datasets.MAX_FILE_BYTES), a pair's weights 64 MiB;
# Gradio refuses a larger upload before it reaches a handler
MAX_UPLOAD_BYTES = 100 * 2**20
SIDE_PLOTS_EVERY = 5   # while training, curves and histograms come with every 5th frame (about 0.7 a second)
INTRO = """# EnergyLab
**Deep directed generative models with energy-based probability estimation** (Kim & Bengio, 2016).
An energy function *E(x)* and a generator *G(z)* learn together: the energy pushes real data down and
generated samples up, `L_E = E[E(x_data)] - E[E(G(z))]`; the generator minimises
`KL(p_G || p_E) = E[E(G(z))] - H(p_G)` + const, so it samples from `p_E(x) = exp(-E(x)) / Z` without MCMC.
The entropy term *H* keeps it from collapsing onto one well: set its weight to 0 and watch."""


# ---------------------------------------------------------------------------- a plot that redraws in place
# gr.Plot re-creates its Plotly chart on every update (a full newPlot); streamed frames then pile
# up in a slow browser. This view keeps one chart and calls Plotly.react, which only redraws what
# changed. plotly.js is served from this repository: nothing is fetched from the web. It is
# plotly.js's "cartesian" bundle (npm plotly.js-cartesian-dist-min, MIT, the version plotly.py
# bundles): every trace type the figures use (scatter, heatmap, contour, bar) in 1.5 MB where the
# full bundle is 4.8 MB, which a new visitor's browser spent ~0.7 s more to fetch and compile.
PLOTLY_JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "js")
PLOTLY_JS_FILE = "plotly-cartesian-4.1.1.min.js"
# In the page's <head>, async: the browser fetches and compiles plotly.js off its main
# thread while Gradio's own scripts start, instead of after the first plot has mounted (on a busy
# 2-core machine that was ~1 s of a new visitor's first landscape). The views poll for it.
PLOTLY_HEAD = f'<script async src="/gradio_api/file={PLOTLY_JS_DIR}/{PLOTLY_JS_FILE}"></script>'
# The page's first figures. A new visitor's page used to ask for them with its load event, a
# round trip behind Gradio's own start-up (~0.4 s with 8 runs training on 2 cores). After launch the
# default pair's figures are put in the page itself (`serve_first_view`), marked, and drawn as soon
# as plotly.js is ready; the load event's identical figures are then not drawn again. A page opened
# from a link (a query string) ignores them and waits for its own.
FIRST_VIEW_MARK = "/*first view*/"
FIRST_VIEWS = ("landscape", "curves", "histogram")
PLOTLY_JS = """
const target = element.querySelector('.energylab-plot');
const FIRST_VIEW = %s;
let drawn = null;   // the figure JSON on the chart: the same value again is not redrawn
const draw = () => {
  let value = props.value;
  if (!value) return;
  if (value.startsWith(FIRST_VIEW)) {   // the default pair's first view, in the page itself
    if (window.location.search) return;  // a link names its own state: its load event brings it
    value = value.slice(FIRST_VIEW.length);
  }
  if (value === drawn) return;
  drawn = value;
  // Charts are drawn one at a time, in the order their values came, each in its own task: the
  // browser shows each chart as soon as it is drawn (a new page's landscape before the side plots,
  // ~0.4 s sooner on a busy machine). A value overtaken by a newer one before its turn is skipped.
  window.energylabDraws = (window.energylabDraws || Promise.resolve())
    .then(() => new Promise((resolve) => setTimeout(resolve, 0)))
    .then(() => {
      if (drawn !== value) return;
      const figure = JSON.parse(value);
      return window.Plotly.react(target, {data: figure.data, layout: figure.layout, frames: figure.frames || [],
                                          config: {responsive: true, displaylogo: false}}).then(listen);
    })
    .catch((error) => console.error('EnergyLab: a chart could not be drawn', error));
};
// digits: hovering a point that carries its 8 x 8 image (0-16 levels) shows that image, pixelated
const zoom = document.createElement('canvas');
zoom.width = zoom.height = 96;
zoom.style.cssText = 'position:absolute;top:40px;right:30px;display:none;border:1px solid #999;' +
  'image-rendering:pixelated;background:white;z-index:10';
element.style.position = 'relative';
element.appendChild(zoom);
let listening = false;
const listen = () => {
  if (listening || typeof target.on !== 'function') return;
  listening = true;
  target.on('plotly_hover', (event) => {
    const pixels = event.points[0].customdata;
    if (!pixels || pixels.length !== 64) return;
    const tile = document.createElement('canvas');
    tile.width = tile.height = 8;
    const tileContext = tile.getContext('2d');
    const image = tileContext.createImageData(8, 8);
    for (let i = 0; i < 64; i++) {
      const level = 255 - Math.round(pixels[i] * 255 / 16);
      image.data.set([level, level, level, 255], i * 4);
    }
    tileContext.putImageData(image, 0, 0);
    const context = zoom.getContext('2d');
    context.imageSmoothingEnabled = false;
    context.drawImage(tile, 0, 0, 96, 96);
    zoom.style.display = 'block';
  });
  target.on('plotly_unhover', () => { zoom.style.display = 'none'; });
};
const whenLoaded = () => (window.Plotly ? draw() : setTimeout(whenLoaded, 50));
whenLoaded();
watch('value', () => (window.Plotly ? draw() : whenLoaded()));
""" % json.dumps(FIRST_VIEW_MARK)

from gradio.events import Dependency

class PlotView(gr.HTML):
    """A gr.HTML that draws a Plotly figure, and keeps its own id in a session's copies.

    Works around a Gradio 6.31 leak: an output given gr.skip() is replaced in the session's state
    by a fresh copy of the component, which gets a new id; the next value sent to the output then
    files that copy, and the value, under the new id, and nothing removes them. A live run sends
    the curves and histograms as values on one frame in five and skips them otherwise, so every
    such frame kept a ~50 KB figure: about +100 MB in a 5,000-frame soak. A copy made for a
    session (render=False) takes the id of the view it copies, so it replaces that view's entry."""

    _ids: dict[str, int] = {}   # elem_id -> the id of the view built in the layout

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if kwargs.get("render", True):
            PlotView._ids[self.elem_id] = self._id
        elif self.elem_id in PlotView._ids:
            self._id = PlotView._ids[self.elem_id]
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


def plotly_view(elem_id: str, height: int) -> gr.HTML:
    return PlotView(None, html_template=f'<div class="energylab-plot" style="min-height:{height}px"></div>',
                   js_on_load=PLOTLY_JS, elem_id=elem_id, min_height=height)


def figure_json(figure) -> str:
    return figure.to_json()


# ---------------------------------------------------------------------------- session state
class Session(LiveSession):
    """A LiveSession plus what the page remembers: the chosen view and the uploaded points."""

    def __init__(self):
        super().__init__(device="auto")
        self.view = {"view": "energy", "show_data": True, "show_samples": True, "show_arrows": False,
                     "show_latent": False}
        self.points_path: str | None = None
        self.export_dir = tempfile.mkdtemp(prefix="energylab-session-")
        self.views = views.ViewState()
        self.comparison: compare.Comparison | None = None   # the Compare view's two runs
        self.replay_step: int | None = None   # the step the replay slider holds; None: live
        self.replay_since = 0                 # the newest frame's id when the slider moved
        self.densities = density_tab.DensityState()


def ensure(session) -> Session:
    """The browser session's Session, made on its first event."""
    return session if isinstance(session, Session) else Session()


# open pages by Gradio session hash, so that closing a tab can stop its training at once (Gradio
# itself deletes a closed page's gr.State only an hour later)
OPEN_PAGES: dict[str, Session] = {}


def close_page(request: gr.Request) -> None:
    """The tab was closed or reloaded: stop its runs and free their memory now."""
    session = OPEN_PAGES.pop(getattr(request, "session_hash", None) or "", None)
    if session is not None:
        close_session(session)


def only_status(session: Session, note: str | None = None, problem: str | None = None,
                state: str | None = None, step: int | None = None) -> tuple:
    """Frame outputs that leave the figures as they are and update the status line."""
    status = controls.status_markdown(session.latest()[0], note, problem, state, step)
    return gr.skip(), gr.skip(), gr.skip(), status, session


def draw(session: Session, note: str | None = None, problem: str | None = None, side_plots: bool = True):
    """The three figures and the status line of the session's newest frame. While training,
    contours and (but on every SIDE_PLOTS_EVERY-th frame) the side plots are left out, so that a
    small machine's browser redraws less and leaves the CPU to training."""
    frame, _ = session.latest()
    status = controls.status_markdown(frame, note, problem)
    if frame is None:
        return gr.skip(), gr.skip(), gr.skip(), status, session
    training = bool(frame.info.get("training"))
    if replaying(session):   # the replay slider holds an earlier frame (studio block below)
        return replay_outputs(session, note, problem, redraw=not training, curves=not training or side_plots)
    landscape = figure_json(figures.landscape_figure(frame, **session.view, contours=not training))
    if training and not side_plots:
        return landscape, gr.skip(), gr.skip(), status, session
    return (landscape, figure_json(figures.curves_figure(frame.history, frame.total_steps)),
            figure_json(figures.histogram_figure(frame)), status, session)


def guarded(extra_outputs: int = 0):
    """Bad input becomes a message in the status line; the other outputs stay as they are."""
    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(session, *args):
            session = ensure(session)
            try:
                return handler(session, *args)
            except EXPECTED as e:
                problem = str(e)
            except Exception as e:  # noqa: BLE001 - a bug must not kill the page; the console keeps the trace
                log.exception("handler %s failed", handler.__name__)
                problem = f"something went wrong ({type(e).__name__}: {e}); the session keeps working"
            return only_status(session, problem=problem) + (gr.skip(),) * extra_outputs
        return wrapper
    return decorate


def control_updates(options: dict) -> tuple:
    """gr.update()s that show `options` in the controls, with the dataset's own parameters visible."""
    values = controls.controls_from_options(options)
    visible = controls.DATASET_PARAMETERS.get(options["dataset"], ())
    updates = []
    for name in controls.CONTROL_NAMES:
        if name in controls.DATA_PARAMETERS:
            updates.append(gr.update(value=values[name], visible=name in visible))
        else:
            updates.append(gr.update(value=values[name]))
    return tuple(updates) + (gr.update(visible=options["dataset"] == "points"),)


# ---------------------------------------------------------------------------- handlers
def options_of(session: Session, values) -> dict:
    return controls.options_from_controls(dict(zip(controls.CONTROL_NAMES, values)), session.points_path)


N_CONTROL_OUTPUTS = len(controls.CONTROL_NAMES) + 1   # + the points upload's visibility


@guarded(extra_outputs=N_CONTROL_OUTPUTS + 1)
def choose_pretrained(session: Session, name: str):
    if not name:
        return only_status(session) + (gr.skip(),) * (N_CONTROL_OUTPUTS + 1)
    started = time.perf_counter()
    pair = catalogue.find(name)
    with REQUESTS_FIRST.serving():
        run = session.load(str(pair.folder), f"pretrained: {pair.name}", catalogue.points_path(pair.folder))
        shown = draw(session, f"loaded in {time.perf_counter() - started:.2f} s")
    return shown + control_updates(run.options) + (gr.update(value=name),)


def train(session: Session, *values):
    """Start (or continue) training and stream frames until it stops, pauses or ends."""
    session = ensure(session)
    try:
        options = options_of(session, values)
        note = None
        if session.needs_new_run(options):
            session.new_run(options)
            note = "new run"
        else:
            session.apply_live_settings(options)
        if session.comparison is not None:   # the comparison pauses: both cores go to this run
            session.comparison.pause()
        session.start()
    except EXPECTED as e:
        yield draw(session, problem=str(e))
        return
    seen, shown = -1, 0
    while True:
        frame, frame_id = session.wait_frame(seen, timeout=FRAME_SECONDS)
        if frame_id != seen:
            seen, shown = frame_id, shown + 1
            yield draw(session, note, side_plots=shown % SIDE_PLOTS_EVERY == 1)
        if not session.training:
            if session.ending:   # Stop: say so with the last frame, which replaces Stop's own status
                note = f"stopped at step {session.run.step:,}: Train starts a new run"
            elif session.run.done:
                note = "finished"
            yield draw(session, note)
            return


def pause(session: Session):
    if isinstance(session, Session):
        session.stop(wait=False)


@guarded()
def stop(session: Session):
    """Ends the run; while training, the Train stream brings the last frame, this only the word."""
    was_training = session.training
    step = session.end()
    note = f"stopped at step {step:,}: Train starts a new run" if step is not None else "nothing to stop"
    if was_training:  # the counter shows the halted step before the last frame has arrived
        return only_status(session, note, state="stopped", step=step)
    return draw(session, note)


def step_handler(update: str):
    @guarded()
    def step(session: Session, count, *values):
        options = options_of(session, values)
        if session.run is None or (not session.ended and session.needs_new_run(options)):
            session.new_run(options)
        elif not session.ended:
            session.apply_live_settings(options)
        done = session.step(whole(count, "steps per click", 1, max(STEP_CHOICES)), update)
        what = {"both": "", "energy": " (energy only)", "generator": " (generator only)"}[update]
        return draw(session, f"stepped {done}{what}")
    step.__name__ = f"step_{update}"
    return step


@guarded()
def reset(session: Session, *values):
    session.new_run(options_of(session, values))
    return draw(session, "new run at step 0")


@guarded()
def change_live_setting(session: Session, *values):
    """Entropy, weight, learning rates and steps apply between steps, even mid-run."""
    if session.run is None or session.ended:
        return (gr.skip(),) * 4 + (session,)
    options = options_of(session, values)
    if all(session.run.options.get(k) == options[k] for k in LIVE_SETTINGS):   # e.g. a lesson step set them
        return (gr.skip(),) * 4 + (session,)
    session.apply_live_settings(options)
    return only_status(session, "settings applied")


@guarded()
def change_view(session: Session, view, show_data, show_samples, show_arrows, show_latent):
    chosen = {"view": view, "show_data": show_data, "show_samples": show_samples,
              "show_arrows": show_arrows, "show_latent": show_latent}
    layers = {"arrows": bool(show_arrows), "latent": bool(show_latent)}
    if chosen == session.view and layers == session.layers:   # already shown (a lesson step or link set it)
        return (gr.skip(),) * 4 + (session,)
    session.view = chosen
    if layers != session.layers:
        session.layers = layers
        if not session.training:  # the next frame of a live run brings them anyway
            session.publish(fine=True)
    return draw(session)


def change_dataset(dataset: str):
    """Show the dataset's own parameters and its defaults (explorer/config/options.py DATASET_DEFAULTS)."""
    visible = controls.DATASET_PARAMETERS.get(dataset, ())
    defaults = DATASET_DEFAULTS.get(dataset, {})
    updates = []
    for name in controls.CONTROL_NAMES:
        if name == "dataset":
            updates.append(gr.skip())
        elif name in controls.DATA_PARAMETERS:
            updates.append(gr.update(visible=name in visible, **({"value": defaults[name]} if name in defaults else {})))
        elif name in defaults:
            updates.append(gr.update(value=defaults[name]))
        elif any(name in other for other in DATASET_DEFAULTS.values()):
            # set by another dataset's defaults (the grid's steps, the digits' width): back to the plain default
            updates.append(gr.update(value=OPTION_BY_NAME[name].default))
        else:
            updates.append(gr.skip())
    return tuple(updates) + (gr.update(visible=dataset == "points"),)


@guarded(extra_outputs=1)
def upload_points(session: Session, file):
    if file is None:
        return only_status(session) + (gr.skip(),)
    points = load_points(file)  # checked now, so a bad file is reported at once
    session.points_path = file
    note = f"{len(points):,} points loaded from {os.path.basename(file)}; press Train"
    return only_status(session, note) + (gr.update(value="points"),)


@guarded(extra_outputs=N_CONTROL_OUTPUTS)
def upload_pair(session: Session, files):
    if not files:
        return only_status(session) + (gr.skip(),) * N_CONTROL_OUTPUTS
    paths = [files] if isinstance(files, str) else list(files)
    folder, points = pair_files.unpack_upload(paths)
    try:
        run = session.load(folder, f"uploaded: {os.path.basename(paths[0])}", points)
    except EXPECTED as e:   # name the files, not the server's temporary folder
        raise UserInputError(str(e).replace(folder + os.sep, "")) from None
    if points:
        session.points_path = points
    return draw(session, "pair loaded") + control_updates(run.options)


@guarded(extra_outputs=1)
def download_pair(session: Session):
    if session.run is None:
        return only_status(session, problem="nothing to download yet") + (gr.skip(),)
    with session.lock:
        name = f"energylab-{session.run.options['dataset']}-step{session.run.step}"
        path = pair_files.export_zip(session.run, session.export_dir, name)
    return draw(session, f"{os.path.basename(path)} ready") + (gr.update(value=path, visible=True),)


def view_handler(build):
    """A Gallery / Interpolation / Embedding handler: (figure JSON, status, session), errors as messages.
    (No functools.wraps: Gradio reads this signature, whose gr.Progress default it fills in.)"""
    def handler(session, *args, progress=gr.Progress()):
        session = ensure(session)
        try:
            figure, note = build(session, *args, progress=progress)
            return figure_json(figure), controls.status_markdown(session.latest()[0], note), session
        except EXPECTED as e:
            problem = str(e)
        except Exception as e:  # noqa: BLE001 - as in guarded()
            log.exception("view %s failed", build.__name__)
            problem = f"something went wrong ({type(e).__name__}: {e}); the session keeps working"
        return gr.skip(), controls.status_markdown(session.latest()[0], problem=problem), session
    handler.__name__ = build.__name__
    return handler


def whole(value, name: str, low: int | None = None, high: int | None = None) -> int:
    return controls.whole_number(value, name, low, high)


@view_handler
def draw_gallery(session: Session, size, seed, sort, progress=None):
    started = time.perf_counter()
    figure = views.gallery(session, session.views, whole(size, "samples"), whole(seed, "seed"), bool(sort))
    return figure, f"gallery in {time.perf_counter() - started:.2f} s"


def resample_seed(seed):
    return (int(seed) + 1) if isinstance(seed, (int, float)) and seed == seed else 0


@view_handler
def draw_interpolation(session: Session, endpoints, first, second, seed, steps, method, progress=None):
    started = time.perf_counter()
    figure = views.interpolation(session, session.views, endpoints, whole(first, "sample #"),
                                 whole(second, "sample #"), whole(seed, "seed"), whole(steps, "steps"), method)
    return figure, f"interpolation in {time.perf_counter() - started:.2f} s"


@view_handler
def draw_embedding(session: Session, colour_by, progress=None):
    figure, result = views.embedding(session, session.views, colour_by, progress=progress)
    return figure, f"UMAP in {result.seconds:.1f} s{' (from the last layout)' if result.warm_start else ''}"


def close_session(session: Session) -> None:
    """A closed tab: stop its training, drop its pairs and caches, remove its downloads."""
    if isinstance(session, Session):
        session.close()
        if session.comparison is not None:
            session.comparison.close()
            session.comparison = None
        session.views = views.ViewState()
        shutil.rmtree(session.export_dir, ignore_errors=True)

# ---------------------------------------------------------------------------- compare
COMPARE_NOTE = """Both runs share **everything** but the one setting: the seed, so the same data batches, the same
initial networks and the same latent draws; only that setting makes them drift apart. Coverage is measured every
250 steps on 1,000 samples (a mode counts as covered when a sample lies within 3 std of its centre).
Train here pauses the main panel's run, and the main panel's Train pauses this comparison, so the two cores go to
what you are watching."""


def guarded_compare(handler):
    """As guarded(), for the Compare view's outputs."""
    @functools.wraps(handler)
    def wrapper(session, *args):
        session = ensure(session)
        try:
            return handler(session, *args)
        except EXPECTED as e:
            problem = str(e)
        except Exception as e:  # noqa: BLE001 - as in guarded()
            log.exception("compare handler %s failed", handler.__name__)
            problem = f"something went wrong ({type(e).__name__}: {e}); the session keeps working"
        return draw_comparison(session, problem=problem)
    return wrapper


def preset_steps(preset: str) -> int:
    return int(preset_options(preset).get("steps", OPTION_BY_NAME["steps"].default))


def compare_sides(preset, contrast, estimator_left, estimator_right, seed, steps):
    return compare.side_options(preset, contrast, whole(seed, "seed"), (estimator_left, estimator_right),
                                whole(steps, "steps"))


def draw_comparison(session: Session, note: str | None = None, problem: str | None = None, chart: bool = True):
    """Both landscapes, the coverage chart and the status of the session's comparison."""
    comparison = session.comparison
    if comparison is None:
        text = f"⚠️ {html.escape(problem)}" if problem else html.escape(note or "Press Train both.")
        return gr.skip(), gr.skip(), gr.skip(), text, session
    (left, right), _ = comparison.frames()
    figures_json = []
    for frame, name in zip((left, right), comparison.names):
        if frame is None:
            figures_json.append(gr.skip())
            continue
        training = bool(frame.info.get("training"))
        title = f"{name} · step {frame.step:,}"
        figures_json.append(figure_json(figures.landscape_figure(frame, contours=not training, height=440,
                                                                 title=title)))
    coverage = comparison.coverage()
    chart_json = figure_json(compare_figures.coverage_figure(coverage, comparison.options["steps"])) if chart else gr.skip()
    state = comparison.state
    steps = " · ".join(f"{name} step {side.run.step:,}" + (f" ({side.throughput:,.0f}/s)" if side.throughput else "")
                       for name, side in zip(comparison.names, comparison.sides))
    text = f"**{state}** · {html.escape(steps)}  \n{compare_figures.contrast_summary(coverage)}"
    if note:
        text += f"  \n{html.escape(note)}"
    for side in comparison.sides:
        for warning in (side.run.warning, side.error):
            if warning:
                text += f"  \n⚠️ {html.escape(str(warning))}"
    if problem:
        text += f"  \n⚠️ {html.escape(problem)}"
    return (*figures_json, chart_json, text, session)


def compare_train(session, preset, contrast, estimator_left, estimator_right, seed, steps):
    """Train both sides together (continuing a paused comparison of the same settings) and stream frames."""
    session = ensure(session)
    try:
        left, right, names = compare_sides(preset, contrast, estimator_left, estimator_right, seed, steps)
        comparison = session.comparison
        if (comparison is None or comparison.done or comparison.names != names
                or (comparison.sides[0].run.options, comparison.sides[1].run.options) != (left, right)):
            if comparison is not None:
                comparison.close()
            session.comparison = compare.Comparison(left, right, names, device=session.device)
        session.stop(wait=False)   # the main panel's run pauses: both cores go to the comparison
        session.comparison.start()
    except EXPECTED as e:
        yield draw_comparison(session, problem=str(e))
        return
    except Exception as e:  # noqa: BLE001 - as in guarded()
        log.exception("compare_train failed")
        yield draw_comparison(session, problem=f"something went wrong ({type(e).__name__}: {e}); "
                                               "the session keeps working")
        return
    seen, chart_rows = (-1, -1), -1
    while True:
        time.sleep(FRAME_SECONDS)
        _, ids = session.comparison.frames()
        rows = sum(len(v[0]) for v in session.comparison.coverage()["curves"].values())
        if ids != seen:
            yield draw_comparison(session, chart=rows != chart_rows)
            seen, chart_rows = ids, rows
        if not session.comparison.training:
            if session.comparison.stopped:
                yield draw_comparison(session, "Train both starts a new comparison")
            else:
                yield draw_comparison(session)
            return


@guarded_compare
def compare_pause(session: Session):
    if session.comparison is not None:
        session.comparison.pause()
    return gr.skip(), gr.skip(), gr.skip(), gr.skip(), session


@guarded_compare
def compare_stop(session: Session):
    if session.comparison is None:
        return draw_comparison(session, "nothing to stop")
    session.comparison.end()
    return draw_comparison(session, "Train both starts a new comparison")


def show_estimators(contrast):
    return gr.update(visible=contrast == "estimator"), gr.update(visible=contrast == "estimator")


def compare_preset_steps(preset):
    return gr.update(value=preset_steps(preset))


# ---------------------------------------------------------------------------- studio: draw, replay, export
# Draw: a canvas over the box [-3, 3]^2 (explorer/data/drawing.py) whose points travel as the gr.HTML's
# value, JSON [[x, y], ...]: the canvas sets props.value after each stroke, Undo and Clear, and a
# Python handler reads it as an input ("Use these points") or sets it (a starter shape).
DRAW_PIXELS = 480
DRAW_HTML = f"""<div class="energylab-draw">
  <canvas class="draw-canvas" width="{DRAW_PIXELS}" height="{DRAW_PIXELS}"></canvas>
  <div class="draw-tools">
    <label>brush <input type="range" class="draw-brush" min="0" max="1" step="0.05" value="0.25"></label>
    <span class="draw-brush-value"></span>
    <button type="button" class="draw-undo">Undo</button>
    <button type="button" class="draw-clear">Clear</button>
    <span class="draw-count"></span>
  </div>
</div>"""
DRAW_CSS = """
.draw-canvas { width: min(100%, 480px); aspect-ratio: 1; touch-action: none; cursor: crosshair;
               border: 1px solid #bbb; display: block; }
.draw-tools { display: flex; gap: 10px; align-items: center; margin-top: 6px; flex-wrap: wrap; }
.draw-tools button { border: 1px solid #bbb; border-radius: 6px; padding: 2px 12px; background: #f6f6f6; }
"""
DRAW_JS = """
const BOX = %(box)s, MIN = %(min)s, MAX = %(max)s, SIZE = %(pixels)s, SPACING = 6;  // SPACING: pixels between dabs
const canvas = element.querySelector('.draw-canvas');
const context = canvas.getContext('2d');
const brush = element.querySelector('.draw-brush');
const brushText = element.querySelector('.draw-brush-value');
const counter = element.querySelector('.draw-count');
let strokes = [];       // the points of each press of the mouse: Undo removes the last
let stroke = null;      // the press going on
let hover = null;       // the pointer, in data coordinates (for the brush outline)
let lastDab = null;     // where the stroke last sprayed, in screen pixels
let sent = null;        // the JSON this canvas last sent, to tell it from a value set by Python

const total = () => strokes.reduce((n, s) => n + s.length, 0) + (stroke ? stroke.length : 0);
const radius = () => Number(brush.value);
const clamp = (v) => Math.max(-BOX, Math.min(BOX, v));
const round = (v) => Math.round(v * 1e4) / 1e4;
const toData = (event) => {
  const rect = canvas.getBoundingClientRect();
  return [BOX * (2 * (event.clientX - rect.left) / rect.width - 1),
          BOX * (1 - 2 * (event.clientY - rect.top) / rect.height)];
};
const toPixel = (x, y) => [(x + BOX) / (2 * BOX) * SIZE, (BOX - y) / (2 * BOX) * SIZE];
const add = (x, y) => { if (total() < MAX) stroke.push([round(clamp(x)), round(clamp(y))]); };

function paint() {
  context.fillStyle = '#fff';
  context.fillRect(0, 0, SIZE, SIZE);
  for (let v = -BOX; v <= BOX + 1e-9; v += 0.5) {   // grid: every 0.5, whole numbers darker, axes darkest
    const [p, q] = toPixel(v, v);
    context.strokeStyle = Math.abs(v) < 1e-9 ? '#888' : (Math.abs(v %% 1) < 1e-9 ? '#cfcfcf' : '#ececec');
    context.beginPath(); context.moveTo(p, 0); context.lineTo(p, SIZE); context.moveTo(0, q); context.lineTo(SIZE, q);
    context.stroke();
  }
  context.fillStyle = '#777';
  context.font = '11px sans-serif';
  for (let v = -BOX; v <= BOX; v++) {
    if (v === 0) continue;
    const [p, q] = toPixel(v, v);
    context.fillText(String(v), p + 2, SIZE / 2 + 12);
    context.fillText(String(v), SIZE / 2 + 4, q - 2);
  }
  context.fillStyle = '#1f77b4';
  for (const s of (stroke ? strokes.concat([stroke]) : strokes)) {
    for (const [x, y] of s) {
      const [p, q] = toPixel(x, y);
      context.fillRect(p - 2, q - 2, 4, 4);
    }
  }
  if (hover && radius() > 0) {
    const [p, q] = toPixel(hover[0], hover[1]);
    context.strokeStyle = 'rgba(255, 127, 14, 0.8)';
    context.beginPath(); context.arc(p, q, radius() / (2 * BOX) * SIZE, 0, 2 * Math.PI); context.stroke();
  }
  const n = total();
  counter.textContent = n.toLocaleString() + ' points' + (n < MIN ? ' (at least ' + MIN + ' needed)' : '') +
                        (n >= MAX ? ' (the most a drawing holds)' : '');
  brushText.textContent = radius() > 0 ? radius().toFixed(2) : 'single points';
}
function sync() {          // the canvas's value: what "Use these points" sends
  sent = JSON.stringify(strokes.flat());
  props.value = sent;
}
canvas.addEventListener('pointerdown', (event) => {
  if (event.button !== 0) return;
  canvas.setPointerCapture(event.pointerId);
  stroke = [];
  const [x, y] = toData(event);
  add(x, y);                                  // a click adds exactly one point, where it lands
  lastDab = [event.clientX, event.clientY];
  paint();
});
canvas.addEventListener('pointermove', (event) => {
  hover = toData(event);
  if (stroke && Math.hypot(event.clientX - lastDab[0], event.clientY - lastDab[1]) >= SPACING) {
    const r = radius();                       // a drag sprays: 3 points a dab, uniform in the brush's disc
    for (let i = 0; i < (r > 0 ? 3 : 1); i++) {
      const angle = 2 * Math.PI * Math.random(), distance = r * Math.sqrt(Math.random());
      add(hover[0] + distance * Math.cos(angle), hover[1] + distance * Math.sin(angle));
    }
    lastDab = [event.clientX, event.clientY];
  }
  paint();
});
const finish = () => {
  if (!stroke) return;
  if (stroke.length) strokes.push(stroke);
  stroke = null;
  sync();
  paint();
};
canvas.addEventListener('pointerup', finish);
canvas.addEventListener('pointercancel', finish);
canvas.addEventListener('pointerleave', () => { hover = null; paint(); });
brush.addEventListener('input', paint);
element.querySelector('.draw-undo').addEventListener('click', () => { strokes.pop(); sync(); paint(); });
element.querySelector('.draw-clear').addEventListener('click', () => { strokes = []; sync(); paint(); });
const receive = () => {    // a drawing from Python (a starter shape): one stroke, so Undo removes it
  if (props.value === sent) return;
  try {
    const points = JSON.parse(props.value || '[]');
    strokes = Array.isArray(points) && points.length ? [points.slice(0, MAX)] : [];
    sent = props.value;
  } catch (error) { /* not a drawing: keep the canvas as it is */ }
  paint();
};
watch('value', receive);
receive();
""" % {"box": drawing.BOX, "min": drawing.MIN_DRAWN, "max": drawing.MAX_DRAWN, "pixels": DRAW_PIXELS}
DRAW_NOTE = f"""**Draw your own data.** Click to add a point, drag to spray points along the stroke (the
brush sets how wide). You need at least {drawing.MIN_DRAWN} points, at most {drawing.MAX_DRAWN:,}. **Use these
points** makes them the `points` dataset (standardised, like an uploaded file) with the points preset's
settings (small networks, kNN entropy), and shows the new run at step 0: then press Train or Step."""

# Export: every figure the page shows is a plotly_view with this elem_id
FIGURE_VIEWS = ("landscape", "curves", "histogram", "gallery", "interpolation", "embedding")
# PNG: drawn by the browser from the chart on the page (server-side PNG needs kaleido and a Chrome)
PNG_JS = """(which) => {
  const chart = document.querySelector('#' + which + ' .js-plotly-plot');
  if (!chart || !window.Plotly || !chart._fullLayout) {
    return 'The ' + which + ' figure has not been drawn yet: open its tab and draw it first.';
  }
  const title = document.querySelector('#landscape .gtitle');
  const step = title && title.textContent.match(/step ([\\d,]+)/);
  const name = 'energylab-' + which + (step ? '-step' + step[1].replace(/,/g, '') : '');
  window.Plotly.downloadImage(chart, {format: 'png', filename: name, scale: 2,
                                      width: chart._fullLayout.width || 900, height: chart._fullLayout.height || 600});
  return name + '.png: drawn by your browser.';
}"""
# HTML: send only the chosen figure's JSON (the page holds all six; a fine landscape is ~1 MB)
CHOSEN_FIGURE_JS = """(session, which, ...rest) => {
  const figures = rest.slice(0, %d);
  const names = %s;
  return [session, which, ...figures.map((figure, i) => (names[i] === which ? figure : null))];
}""" % (len(FIGURE_VIEWS), json.dumps(list(FIGURE_VIEWS)))
REPLAY_INFO = ("scrub back through this run's frames (up to 200 kept, thinned evenly as the run grows); "
               "the right end, or Live, shows the newest")


def replaying(session: Session) -> bool:
    """Does the page hold an earlier frame? While training, newer frames wait behind it; the first
    still frame published after it (a Step, Reset, a loaded pair, training's last frame) returns to live."""
    if session.replay_step is None:
        return False
    frame, frame_id = session.latest()
    if frame is None or len(session.replay) == 0 or (frame_id > session.replay_since
                                                     and not frame.info.get("training")):
        session.replay_step = None
        return False
    return True


def replayed_frame(session: Session):
    """The frame the landscape shows: the replayed one, or the newest."""
    if session.replay_step is not None:
        frame = session.replay.nearest(session.replay_step)
        if frame is not None:
            return frame
    return session.latest()[0]


def replay_outputs(session: Session, note: str | None = None, problem: str | None = None, redraw: bool = True,
                   curves: bool = True):
    """Frame outputs for a replayed frame: its landscape and histogram, the run's curves marked at
    its step. Frames streamed while training bring the status line and, with `curves`, the
    curves (whose change moves the slider's range on); `redraw` redraws the replayed frame too."""
    latest, _ = session.latest()
    shown = session.replay.nearest(session.replay_step)
    where = f"replaying step {shown.step:,}: Live (or the slider's right end) shows the newest"
    status = controls.status_markdown(latest, f"{note} · {where}" if note else where, problem)
    curves_json = gr.skip()
    if curves or redraw:
        figure = figures.curves_figure(latest.history, latest.total_steps)
        figure.update_layout(shapes=replay_mod.step_marker_shapes(shown.step, len(figures.CURVES)))
        curves_json = figure_json(figure)
    if not redraw:
        return gr.skip(), curves_json, gr.skip(), status, session
    return (figure_json(figures.landscape_figure(shown, **session.view, contours=True)), curves_json,
            figure_json(figures.histogram_figure(shown)), status, session)


@guarded()
def replay(session: Session, step):
    """The replay slider moved: show the kept frame nearest that step."""
    if step is None or step != step:
        raise UserInputError("the replay step must be a number")
    newest = session.replay.newest()
    if newest is None:
        raise UserInputError("nothing to replay yet: choose a pair or press Train")
    if step >= newest.step:
        session.replay_step = None
        return draw(session, "live")
    session.replay_step, session.replay_since = int(step), session.latest()[1]
    return replay_outputs(session)


@guarded(extra_outputs=1)
def replay_released(session: Session, step):
    """The slider let go: the same frame, and the slider set to its step (the kept frame nearest
    where it was let go), so that a range update sent before the drag (while live, it moves the
    slider to the newest step) cannot win."""
    outputs = replay(session, step)
    shown = session.replay.nearest(step) if session.replay_step is not None else None
    return outputs + (gr.update(value=shown.step if shown is not None else step),)


@guarded(extra_outputs=1)
def replay_live(session: Session):
    session.replay_step = None
    newest = session.replay.newest()
    return draw(session, "live") + (gr.update(value=newest.step) if newest is not None else gr.skip(),)


def replay_range(session):
    """The slider spans the kept frames; while live it follows the newest. Runs whenever the curves
    change (so its range grows while training) without touching the figures."""
    if not isinstance(session, Session):
        return gr.skip()
    steps = session.replay.steps()
    if not steps:
        return gr.update(minimum=0, maximum=1, value=0, interactive=False)
    # one frame (a loaded pair, a new run): nothing to scrub; Gradio wants minimum < maximum
    update = dict(minimum=steps[0], maximum=max(steps[-1], steps[0] + 1), interactive=len(steps) > 1)
    if session.replay_step is None:
        update["value"] = steps[-1]
    return gr.update(**update)


@guarded(extra_outputs=N_CONTROL_OUTPUTS + 1)
def use_drawing(session: Session, drawn, *values):
    """The canvas's points become the points dataset: saved as a CSV, a new run from the points preset."""
    points = drawing.parse_drawing(drawn)
    seed = whole(dict(zip(controls.CONTROL_NAMES, values)).get("seed"), "seed")
    path = drawing.save_points(points, export.unique_path(session.export_dir, "drawn-points", "csv"))
    options = resolve(preset_options("points"), {"points": path, "seed": seed})
    options = controls.options_from_controls(controls.controls_from_options(options), path)
    session.new_run(options)
    session.points_path = path
    note = f"{len(points):,} drawn points: a new run with the points preset; press Train or Step"
    return draw(session, note) + control_updates(options) + (gr.Tabs(selected="landscape-tab"),)


def draw_starter(name: str):
    """A starter drawing for the canvas (its value: JSON points)."""
    if name not in drawing.STARTERS:
        return gr.skip()
    return drawing.to_json(drawing.starter(name))


def export_step(session: Session, which: str) -> int | None:
    if which in ("landscape", "histogram"):
        frame = replayed_frame(session)
    else:
        frame = session.latest()[0]
    return frame.step if frame is not None else None


@guarded(extra_outputs=1)
def export_html(session: Session, which: str, *shown):
    """The chosen figure, as the page shows it, as a standalone HTML file (plotly.js inline)."""
    if which not in FIGURE_VIEWS:
        raise UserInputError(f"choose a figure to export: {', '.join(FIGURE_VIEWS)}")
    figure = shown[FIGURE_VIEWS.index(which)] if len(shown) == len(FIGURE_VIEWS) else None
    if isinstance(figure, str):   # a page that has not had its load event yet holds the first view
        figure = figure.removeprefix(FIRST_VIEW_MARK)
    dataset = session.run.options["dataset"] if session.run is not None else None
    name = export.export_name(which, export_step(session, which), dataset)
    path = export.write_figure_html(figure, export.unique_path(session.export_dir, name, "html"), title=name)
    note = f"{os.path.basename(path)} ready ({os.path.getsize(path) / 2**20:.1f} MB, plotly.js inline: opens offline)"
    return only_status(session, note) + (gr.update(value=path, visible=True),)


@guarded(extra_outputs=1)
def export_csv(session: Session):
    """The run's metric history: a step column and one column per metric, blank where not recorded."""
    if session.run is None:
        raise UserInputError("no run yet: choose a pair or press Train")
    with session.lock:
        history = {name: list(rows) for name, rows in session.run.history.items()}
        name = export.export_name("history", session.run.step, session.run.options["dataset"])
    if not history:
        raise UserInputError("this run has no metric history yet: train or step it first")
    path = export.write_history_csv(history, export.unique_path(session.export_dir, name, "csv"))
    rows = export.history_csv(history).count("\n") - 1
    return only_status(session, f"{os.path.basename(path)} ready ({rows:,} steps x {len(history)} metrics)") + \
        (gr.update(value=path, visible=True),)


# ---------------------------------------------------------------------------- lesson, shareable link, classroom
# The story and its set-ups are data in explorer/page/lesson.py; the link's format is explorer/page/links.py.
# A lesson step and an opened link both end in `show_setup`, which returns every output below.
SETUP_OUTPUTS = ("landscape", "curves", "histogram", "status", "session", *controls.CONTROL_NAMES, "points_file",
                 "pretrained", "view", "show_data", "show_samples", "show_arrows", "show_latent", "tabs",
                 "tab_state", "lesson_step", "lesson_panel", "lesson_indicator", "lesson_text", "classroom")
N_SETUP_EXTRAS = len(SETUP_OUTPUTS) - 5     # beyond the frame outputs (landscape ... session)
DEFAULT_LAYERS = ("data", "samples")
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
LESSON_INTRO = (f"{len(lesson.STEPS)} short steps, from what an energy landscape is to training a pair yourself. "
                "Each step sets up the page (pair, view, tab) and says what to look at. Press **Next** to start.")
# the link travels in the address bar: replaceState keeps it current without a new history entry;
# Gradio's own query keys (?view=api, ?__theme=dark) are kept as they were
LINK_JS = """(query) => {
  const url = new URL(window.location.href);
  if (typeof query === 'string') {
    const keep = [...url.searchParams].filter(([key]) => key.startsWith('__') || %s.includes(key));
    url.search = query;
    for (const [key, value] of keep) url.searchParams.append(key, value);
    window.history.replaceState(window.history.state, '', url);
  }
  return url.href;
}""" % json.dumps(list(share.FOREIGN_KEYS))
# the clipboard needs a secure context (https or localhost); elsewhere the link box still shows it
COPY_JS = """() => {
  const href = window.location.href;
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(href).catch(() => {});
  return href;
}"""


def show_setup(session: Session, *, pair: str | None, options: dict | None, view: str, layers,
               tab: str, number: int | None, classroom: bool | None, note: str, problem: str | None = None) -> tuple:
    """Show a pretrained pair (its options in the controls, unless `options` overrides them) or a
    new run of `options` at step 0; set the view, its layers, the tab and the lesson step."""
    session.view = {"view": view, "show_data": "data" in layers, "show_samples": "samples" in layers,
                    "show_arrows": "arrows" in layers, "show_latent": "latent" in layers}
    session.layers = {"arrows": "arrows" in layers, "latent": "latent" in layers}   # before the frame is made
    shown = None
    if pair:
        found = catalogue.find(pair)
        run = session.load(str(found.folder), f"pretrained: {found.name}", catalogue.points_path(found.folder))
        shown = run.options
    if options is not None:
        # as the controls hold them (a preset's lr_decay, say, has no control): what Train would run
        options = controls.options_from_controls(controls.controls_from_options(options), session.points_path)
        if not pair:
            session.new_run(options)
        shown = options   # over a pair: the controls say what Train will run next
    frame = draw(session, note, problem)
    control = control_updates(shown) if shown is not None else (gr.skip(),) * N_CONTROL_OUTPUTS
    in_lesson = number is not None and number > 0
    return frame + control + (
        gr.update(value=pair) if pair else gr.update(value=None),
        gr.update(value=view), *(gr.update(value=layer in layers) for layer in lesson.LAYERS),
        gr.Tabs(selected=f"{tab}-tab"), tab,
        number if number is not None else gr.skip(),
        gr.update(open=True) if in_lesson else gr.skip(),
        lesson.indicator(number) if number is not None else gr.skip(),
        (lesson.step(number).text if in_lesson else LESSON_INTRO) if number is not None else gr.skip(),
        gr.update(value=classroom) if classroom is not None else gr.skip())


@guarded(extra_outputs=N_SETUP_EXTRAS)
def lesson_go(session: Session, number):
    """Open lesson step `number` (1..7) and set the page up for it."""
    number = int(number)
    step = lesson.step(number)
    setup = step.setup
    return show_setup(session, pair=setup.pair, options=setup.resolved_options(), view=setup.view,
                      layers=setup.layers, tab=setup.tab, number=number, classroom=None,
                      note=f"lesson step {number} of {len(lesson.STEPS)}: {step.title}")


def lesson_move(change: int):
    @guarded(extra_outputs=N_SETUP_EXTRAS)
    def move(session: Session, current):
        current = current if isinstance(current, int) else 0
        number = current + change
        if not 1 <= number <= len(lesson.STEPS):   # never re-run a step's set-up: it would end a live run
            note = "that was the last step" if change > 0 else "this is the first step"
            return only_status(session, note) + (gr.skip(),) * N_SETUP_EXTRAS
        return lesson_go(session, number)
    move.__name__ = "lesson_next" if change > 0 else "lesson_prev"
    return move


def open_link(session, query, tabs=lesson.TABS):
    """Set the page up as a link says (its query string, or a dict of its parameters).
    Bad or hostile values fall back to the defaults, each named in the status line."""
    @guarded(extra_outputs=N_SETUP_EXTRAS)
    def apply(session: Session):
        shared, problems = share.decode(query if query is not None else "", tabs=tabs)
        problem = ("the link had problems: " + "; ".join(problems)) if problems else None
        if shared.empty and not problems:   # a plain address: the default pair, as before links existed
            if not catalogue.pretrained_pairs():
                return draw(session) + (gr.skip(),) * N_SETUP_EXTRAS
            return choose_pretrained(session, DEFAULT_PAIR) + (gr.skip(),) * (N_SETUP_EXTRAS - N_CONTROL_OUTPUTS - 1)
        setup = lesson.step(shared.lesson).setup if shared.lesson else None
        pair, options = shared.pair, shared.options
        if pair is None and options is None:   # the lesson step's own pair or run, else the default pair
            has_default = any(p.name == DEFAULT_PAIR for p in catalogue.pretrained_pairs())
            pair, options = ((setup.pair, setup.resolved_options()) if setup else
                             (DEFAULT_PAIR, None) if has_default else (None, resolve(None, {})))
        layers = shared.layers if shared.layers is not None else (setup.layers if setup else DEFAULT_LAYERS)
        return show_setup(session, pair=pair, options=options,
                          view=shared.view or (setup.view if setup else "energy"), layers=layers,
                          tab=shared.tab or (setup.tab if setup else "landscape"),
                          number=shared.lesson, classroom=shared.classroom, note=share.summary(shared),
                          problem=problem)
    return apply(session)


def link_loader(tabs):
    """demo.load's handler: the page's own address holds the link (gr.Request brings its query)."""
    def open_address(session, request: gr.Request):
        params = list(request.query_params.multi_items()) if request is not None else []
        session = ensure(session)
        if request is not None and request.session_hash:   # so that closing the tab can stop its runs
            OPEN_PAGES[request.session_hash] = session
        with REQUESTS_FIRST.serving():   # a new visitor's page before other runs' next chunks
            return open_link(session, params, tabs)
    return open_address


def shown_pair(session: Session) -> str | None:
    source = session.source or ""
    return source.removeprefix("pretrained: ") if source.startswith("pretrained: ") else None


def link_query_of(session, pair, tab, number, classroom, view, show_data, show_samples, show_arrows, show_latent,
                  *values):
    """The query string of the page's state (unchanged while a control holds a bad value)."""
    if not isinstance(session, Session):
        return gr.skip()
    try:
        options = options_of(session, values)
    except EXPECTED:
        return gr.skip()
    shown = {"data": show_data, "samples": show_samples, "arrows": show_arrows, "latent": show_latent}
    return share.encode(share.Shared(
        options=options, view=view, layers=tuple(name for name, on in shown.items() if on), pair=pair, tab=tab,
        lesson=number if isinstance(number, int) and number > 0 else None, classroom=True if classroom else None))


# Three ways to know which pair the link names, none of them racing the handler that changes it:
def current_link(session, *inputs):
    """After a handler has finished, or for a control: the pair the session shows, if any."""
    return link_query_of(session, shown_pair(session) if isinstance(session, Session) else None, *inputs)


def live_run_link(session, *inputs):
    """Train, Reset, an uploaded pair (beside their handlers): what is shown next is no catalogue pair."""
    return link_query_of(session, None, *inputs)


def chosen_pair_link(session, name, *inputs):
    """A pretrained pair chosen (beside its handler): that pair."""
    return link_query_of(session, name or None, *inputs)


def set_classroom(on: bool):
    """Classroom: hide networks, seed, learning rates and pair files; leave data, entropy, Train and the lesson."""
    shown = gr.update(visible=not on)
    return shown, shown, shown, shown


# ---------------------------------------------------------------------------- densities tab
DENSITY_TICK_SECONDS = 3.0   # while training, the open Densities tab redraws this often (~0.2-0.5 s of work)
DENSITY_TAB_ID = "densities-tab"
DENSITY_TAB_LABEL = "Densities"


def draw_densities(session, scale):
    """The Densities tab: p_data, p_E, p_G with their KLs, and the entropy curves. Returns the two
    figures, the table, the status line and the session; bad input becomes a message."""
    session = ensure(session)
    try:
        tab = density_tab.density_tab(session, session.densities, scale)
        note = f"densities in {tab.seconds:.2f} s"
        return (figure_json(tab.densities), figure_json(tab.entropy), tab.table,
                controls.status_markdown(session.latest()[0], note), session)
    except EXPECTED as e:
        problem = str(e)
    except Exception as e:  # noqa: BLE001 - as in guarded()
        log.exception("densities failed")
        problem = f"something went wrong ({type(e).__name__}: {e}); the session keeps working"
    return gr.skip(), gr.skip(), gr.skip(), controls.status_markdown(session.latest()[0], problem=problem), session


def tick_densities(session, scale):
    """The timer, active while the tab is shown: redraw when the pair's step moved (training)."""
    if not isinstance(session, Session) or not density_tab.needs_redraw(session, session.densities, scale):
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), session
    outputs = draw_densities(session, scale)
    return outputs[:3] + (gr.skip(),) + outputs[4:]   # the status line stays the training's


def densities_shown(event: gr.SelectData):
    """Any tab chosen: the Densities timer runs only while its tab is shown."""
    return gr.Timer(active=event.value == DENSITY_TAB_LABEL)   # Tabs.select carries the tab's label


# ---------------------------------------------------------------------------- layout
def number(name: str, **kwargs) -> gr.Number:
    option = OPTION_BY_NAME[name]
    # no minimum/maximum here: explorer/config/options.py checks bounds and says what is allowed, in the page
    return gr.Number(label=name.replace("_", " "), info=option.help, **kwargs)


def build_app() -> gr.Blocks:
    pairs = catalogue.pretrained_pairs()
    initial = controls.controls_from_options(resolve(None, {"dataset": "ring"}))
    with gr.Blocks(title="EnergyLab", analytics_enabled=False) as demo:  # nothing leaves the machine
        session = gr.State(None, delete_callback=close_session)
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                pretrained = gr.Dropdown([(p.label, p.name) for p in pairs], value=None, label="pretrained pair",
                                         info="shows a pair trained by the command line (assets/README.md)")
                with gr.Row():
                    train_button = gr.Button("Train", variant="primary", elem_id="train")
                    pause_button = gr.Button("Pause", elem_id="pause")
                    stop_button = gr.Button("Stop", variant="stop", elem_id="stop")
                with gr.Row():
                    step_count = gr.Dropdown(list(STEP_CHOICES), value=10, label="steps per click", min_width=90)
                    step_button = gr.Button("Step", elem_id="step")
                    step_energy_button = gr.Button("Step energy", elem_id="step-energy")
                    step_generator_button = gr.Button("Step generator", elem_id="step-generator")
                reset_button = gr.Button("Reset: a new run from these settings", elem_id="reset")
                with gr.Accordion("data", open=True):
                    dataset = gr.Dropdown(list(DATASET_NAMES), value="ring", label="dataset")
                    modes = number("modes", value=initial["modes"], precision=0)
                    radius = number("radius", value=initial["radius"])
                    spacing = number("spacing", value=initial["spacing"], visible=False)
                    std = number("std", value=initial["std"])
                    points_file = gr.File(label="points (.csv or .npy, N x 2)", visible=False, elem_id="points-upload")
                with gr.Accordion("method (entropy, weight, learning rates and steps change live)", open=True):
                    sampler = gr.Radio(["generator", "langevin"], value="generator", label="negative samples from",
                                       info=OPTION_BY_NAME["sampler"].help)
                    entropy = gr.Dropdown(["batchnorm", "knn", "pullaway", "none"], value="batchnorm",
                                          label="entropy estimator", info="batchnorm: the paper's surrogate")
                    entropy_weight = gr.Slider(0, 5, value=1.0, step=0.05, label="entropy weight",
                                               info="1 = the paper's KL; 0 = no entropy term (collapse)")
                    lr_energy = number("lr_energy", value=initial["lr_energy"])
                    lr_generator = number("lr_generator", value=initial["lr_generator"])
                    steps = number("steps", value=initial["steps"], precision=0)
                with gr.Accordion("networks and seed (apply on Reset or a new Train)", open=False) as networks_accordion:
                    batch_size = number("batch_size", value=initial["batch_size"], precision=0)
                    hidden = number("hidden", value=initial["hidden"], precision=0)
                    energy_hidden = number("energy_hidden", value=0, precision=0)
                    latent_dim = number("latent_dim", value=initial["latent_dim"], precision=0)
                    seed = number("seed", value=initial["seed"], precision=0)
                with gr.Accordion("pair files", open=False) as files_accordion:
                    download_button = gr.Button("Download the current pair (.zip)", elem_id="download")
                    download_file = gr.File(label="pair zip", visible=False, interactive=False)
                    pair_upload = gr.File(label="upload a pair (.zip, or config.json + model.safetensors)",
                                          file_count="multiple",
                                          elem_id="pair-upload")
            with gr.Column(scale=2):
                # ---- lesson, link and classroom: the story (explorer/page/lesson.py) and the link (explorer/page/links.py)
                with gr.Accordion(f"Lesson: the method in {len(lesson.STEPS)} steps", open=True,
                                  elem_id="lesson") as lesson_panel:
                    lesson_indicator = gr.Markdown(lesson.indicator(0), elem_id="lesson-indicator")
                    lesson_text = gr.Markdown(LESSON_INTRO, latex_delimiters=LATEX, elem_id="lesson-text")
                    with gr.Row():
                        lesson_prev = gr.Button("◀ Prev", elem_id="lesson-prev", size="sm")
                        lesson_next = gr.Button("Next ▶", elem_id="lesson-next", size="sm", variant="primary")
                with gr.Row(equal_height=True):
                    classroom = gr.Checkbox(False, label="classroom: hide the advanced controls", elem_id="classroom",
                                            scale=1)
                    copy_link = gr.Button("Copy link", elem_id="copy-link", size="sm", scale=0, min_width=100)
                    link_box = gr.Textbox(label="link to this experiment (the address bar keeps it current)",
                                          interactive=False, elem_id="link", buttons=["copy"], scale=3, lines=1,
                                          max_lines=2)
                link_query = gr.Textbox(visible=False)   # the link's query string, made by current_link
                link_in = gr.Textbox(visible=False)      # /open_link's input: a query string
                lesson_step = gr.State(0)
                tab_state = gr.Textbox("landscape", visible=False)   # the open tab; set in the browser
                # ---- end of lesson, link and classroom
                status = gr.Markdown("Loading…", elem_id="status")
                with gr.Tabs() as tabs:
                    with gr.Tab("Landscape", id="landscape-tab"):
                        landscape = plotly_view("landscape", 520)
                        with gr.Row():   # studio: replay, under the landscape
                            replay_slider = gr.Slider(0, 1, value=0, step=1, label="replay: step", info=REPLAY_INFO,
                                                      elem_id="replay", scale=6, interactive=False)
                            live_button = gr.Button("Live", elem_id="replay-live", scale=1, min_width=80)
                        with gr.Row():
                            view = gr.Radio(list(figures.LANDSCAPE_VIEWS), value="energy", label="show")
                            show_data = gr.Checkbox(True, label="real data")
                            show_samples = gr.Checkbox(True, label="generated samples")
                            show_arrows = gr.Checkbox(False, label="-∇E arrows")
                            show_latent = gr.Checkbox(False, label="latent grid G(z)")
                        with gr.Row():
                            histogram = plotly_view("histogram", 300)
                            curves = plotly_view("curves", 520)
                    with gr.Tab("Compare", id="compare-tab", elem_id="compare-tab"):
                        with gr.Row():
                            compare_preset = gr.Dropdown([name for name in PRESETS if name != "points"],
                                                         value=compare.DEFAULT_PRESET, label="preset")
                            compare_contrast = gr.Radio([(c.label, c.key) for c in compare.CONTRASTS.values()],
                                                        value="entropy", label="what differs")
                            compare_left = gr.Dropdown(list(compare.ESTIMATOR_CHOICES), value="batchnorm",
                                                       label="left estimator", visible=False)
                            compare_right = gr.Dropdown(list(compare.ESTIMATOR_CHOICES), value="knn",
                                                        label="right estimator", visible=False)
                        with gr.Row():
                            compare_seed = gr.Number(0, label="seed (both runs)", precision=0)
                            compare_steps = gr.Number(preset_steps(compare.DEFAULT_PRESET), label="steps", precision=0)
                            compare_train_button = gr.Button("Train both", variant="primary", elem_id="compare-train")
                            compare_pause_button = gr.Button("Pause", elem_id="compare-pause")
                            compare_stop_button = gr.Button("Stop", variant="stop", elem_id="compare-stop")
                        compare_status = gr.Markdown("Press **Train both**: two runs, identical but for one setting, "
                                                     "train side by side.", elem_id="compare-status")
                        with gr.Row():
                            compare_left_plot = plotly_view("compare-left", 440)
                            compare_right_plot = plotly_view("compare-right", 440)
                        compare_chart = plotly_view("compare-coverage", 330)
                        gr.Markdown(COMPARE_NOTE)
                    with gr.Tab("Gallery", id="gallery-tab", elem_id="gallery-tab") as gallery_tab:
                        with gr.Row():
                            gallery_size = gr.Dropdown([16, 64, 100, 200, 400], value=64, label="samples")
                            gallery_seed = gr.Number(0, label="seed", precision=0)
                            gallery_sort = gr.Checkbox(False, label="sort by energy (lowest first)")
                            gallery_button = gr.Button("Draw", elem_id="gallery-draw")
                            resample_button = gr.Button("Resample (new seed)", elem_id="gallery-resample")
                        gallery_plot = plotly_view("gallery", 560)
                    with gr.Tab("Interpolation", id="interpolation-tab", elem_id="interpolation-tab") as interp_tab:
                        with gr.Row():
                            endpoints = gr.Radio([("two random latents", "random"), ("two gallery samples", "gallery")],
                                                 value="random", label="endpoints")
                            first_sample = gr.Number(0, label="gallery sample #", precision=0)
                            second_sample = gr.Number(1, label="to gallery sample #", precision=0)
                            interp_seed = gr.Number(0, label="seed (random latents)", precision=0)
                        with gr.Row():
                            interp_steps = gr.Slider(2, 64, value=24, step=1, label="steps")
                            interp_method = gr.Radio(["linear", "spherical"], value="linear", label="path")
                            interp_button = gr.Button("Interpolate", elem_id="interpolate")
                        interp_plot = plotly_view("interpolation", 620)
                        gr.Markdown("Press **▶ play** under the figure to animate, or drag its slider. Linear paths "
                                    "stay inside the latent cube U(-1, 1)^d; spherical ones (slerp) keep the norm "
                                    "and may leave it.")
                    with gr.Tab("Embedding (UMAP)", id="embedding-tab", elem_id="embedding-tab") as embed_tab:
                        with gr.Row():
                            colour_by = gr.Radio(list(view_figures.COLOUR_BY), value="source", label="colour by")
                            embed_button = gr.Button("Compute UMAP", elem_id="embed")
                        embed_plot = plotly_view("embedding", 600)
                        gr.Markdown(UMAP_NOTE)
                    # ------------------------------------------------ studio: draw your own data
                    with gr.Tab("Draw", id="draw-tab", elem_id="draw-tab"):
                        gr.Markdown(DRAW_NOTE)
                        draw_canvas = gr.HTML("[]", html_template=DRAW_HTML, css_template=DRAW_CSS, js_on_load=DRAW_JS,
                                              elem_id="draw-canvas", min_height=DRAW_PIXELS + 40)
                        with gr.Row():
                            starter_choice = gr.Dropdown(list(drawing.STARTERS), value="smiley", label="starter shape",
                                                         min_width=140)
                            starter_button = gr.Button("Draw the starter", elem_id="draw-starter")
                            use_button = gr.Button("Use these points", variant="primary", elem_id="draw-use")
                    # ---- densities tab
                    with gr.Tab(DENSITY_TAB_LABEL, id=DENSITY_TAB_ID, elem_id=DENSITY_TAB_ID) as densities_tab:
                        with gr.Row():
                            density_scale = gr.Radio(list(density_figures.SCALES), value="log density",
                                                     label="show (one scale for all three)", elem_id="densities-scale")
                            density_button = gr.Button("Refresh", elem_id="densities-refresh")
                        density_plot = plotly_view("densities", 430)
                        density_table = gr.Markdown(elem_id="densities-table")
                        entropy_plot = plotly_view("entropies", 520)
                        density_timer = gr.Timer(DENSITY_TICK_SECONDS, active=False)
                # ---------------------------------------------------- studio: export
                with gr.Row(elem_id="export-row"):
                    export_which = gr.Dropdown(list(FIGURE_VIEWS), value="landscape", label="export figure",
                                               min_width=140, scale=2)
                    png_button = gr.Button("PNG (your browser draws it)", elem_id="export-png", scale=2)
                    html_button = gr.Button("HTML (works offline)", elem_id="export-html", scale=2)
                    csv_button = gr.Button("CSV: metric history", elem_id="export-csv", scale=2)
                export_note = gr.Markdown("", elem_id="export-note")
                export_file = gr.File(label="exported file", visible=False, interactive=False, elem_id="export-file")

        control_inputs = [dataset, modes, radius, spacing, std, sampler, entropy, entropy_weight, lr_energy,
                          lr_generator, batch_size, hidden, energy_hidden, latent_dim, steps, seed]
        frame_outputs = [landscape, curves, histogram, status, session]
        control_outputs = control_inputs + [points_file]
        many = dict(concurrency_limit=None)   # per-session work: one user's run never queues another's

        pretrained.input(choose_pretrained, [session, pretrained], frame_outputs + control_outputs + [pretrained],
                         api_name="choose_pretrained", **many)
        train_button.click(train, [session, *control_inputs], frame_outputs, api_name="train",
                           show_progress="hidden", **many)
        pause_button.click(pause, [session], [], api_name="pause", **many)
        stop_button.click(stop, [session], frame_outputs, api_name="stop", show_progress="hidden", **many)
        for button, update in ((step_button, "both"), (step_energy_button, "energy"),
                               (step_generator_button, "generator")):
            button.click(step_handler(update), [session, step_count, *control_inputs], frame_outputs,
                         api_name=f"step_{update}", **many)
        reset_button.click(reset, [session, *control_inputs], frame_outputs, api_name="reset", **many)
        for control in (entropy, entropy_weight, lr_energy, lr_generator, steps):
            control.change(change_live_setting, [session, *control_inputs], frame_outputs,
                           api_name=False if control is not entropy_weight else "set_live", show_progress="hidden", **many)
        view_inputs = [session, view, show_data, show_samples, show_arrows, show_latent]
        for control in view_inputs[1:]:
            control.change(change_view, view_inputs, frame_outputs, api_name=False, show_progress="hidden", **many)
        dataset.input(change_dataset, [dataset], control_outputs, api_name=False, **many)
        points_file.upload(upload_points, [session, points_file], frame_outputs + [dataset], api_name="upload_points", **many)
        pair_upload.upload(upload_pair, [session, pair_upload], frame_outputs + control_outputs, api_name="upload_pair", **many)
        gallery_inputs = [session, gallery_size, gallery_seed, gallery_sort]
        view_outputs = dict(show_progress="full", **many)
        gallery_button.click(draw_gallery, gallery_inputs, [gallery_plot, status, session], api_name="gallery", **view_outputs)
        gallery_tab.select(draw_gallery, gallery_inputs, [gallery_plot, status, session], api_name=False, **view_outputs)
        resample_button.click(resample_seed, [gallery_seed], [gallery_seed], api_name=False, **many).then(
            draw_gallery, gallery_inputs, [gallery_plot, status, session], api_name=False, **view_outputs)
        interp_inputs = [session, endpoints, first_sample, second_sample, interp_seed, interp_steps, interp_method]
        interp_button.click(draw_interpolation, interp_inputs, [interp_plot, status, session], api_name="interpolate",
                            **view_outputs)
        interp_tab.select(draw_interpolation, interp_inputs, [interp_plot, status, session], api_name=False,
                          **view_outputs)
        embed_button.click(draw_embedding, [session, colour_by], [embed_plot, status, session], api_name="embedding",
                           **view_outputs)
        colour_by.change(draw_embedding, [session, colour_by], [embed_plot, status, session], api_name=False,
                         **view_outputs)
        download_button.click(download_pair, [session], frame_outputs + [download_file], api_name="download_pair", **many)
        compare_inputs = [session, compare_preset, compare_contrast, compare_left, compare_right, compare_seed,
                          compare_steps]
        compare_outputs = [compare_left_plot, compare_right_plot, compare_chart, compare_status, session]
        compare_train_button.click(compare_train, compare_inputs, compare_outputs, api_name="compare_train",
                                   show_progress="hidden", **many)
        compare_pause_button.click(compare_pause, [session], compare_outputs, api_name="compare_pause", **many)
        compare_stop_button.click(compare_stop, [session], compare_outputs, api_name="compare_stop",
                                  show_progress="hidden", **many)
        compare_contrast.change(show_estimators, [compare_contrast], [compare_left, compare_right], api_name=False, **many)
        compare_preset.input(compare_preset_steps, [compare_preset], [compare_steps], api_name=False, **many)

        # ------------------------------------------------------------ studio: draw, replay, export
        hidden = dict(show_progress="hidden", **many)
        # the curves change with every still frame and about 0.7 times a second while training (every
        # SIDE_PLOTS_EVERY-th frame): often enough for the slider, and a fifth of the requests of status
        curves.change(replay_range, [session], [replay_slider], api_name="replay_range", trigger_mode="always_last",
                      **hidden)
        replay_slider.input(replay, [session, replay_slider], frame_outputs, api_name="replay",
                            trigger_mode="always_last", **hidden)
        replay_slider.release(replay_released, [session, replay_slider], frame_outputs + [replay_slider],
                              api_name=False, **hidden)
        live_button.click(replay_live, [session], frame_outputs + [replay_slider], api_name="replay_live", **hidden)
        use_button.click(use_drawing, [session, draw_canvas, *control_inputs],
                         frame_outputs + control_outputs + [tabs], api_name="use_drawing", **many)
        starter_button.click(draw_starter, [starter_choice], [draw_canvas], api_name="draw_starter", **many)
        png_button.click(None, [export_which], [export_note], js=PNG_JS, api_name=False)
        html_button.click(export_html, [session, export_which, landscape, curves, histogram, gallery_plot, interp_plot,
                                        embed_plot], frame_outputs + [export_file], js=CHOSEN_FIGURE_JS,
                          api_name="export_html", **many)
        csv_button.click(export_csv, [session], frame_outputs + [export_file], api_name="export_csv", **many)

        # ---- lesson, link and classroom
        tab_items = [tab for tab in tabs.children if isinstance(tab, gr.Tab) and tab.id]
        tab_names = tuple(str(tab.id).removesuffix("-tab") for tab in tab_items)
        parts = dict(landscape=landscape, curves=curves, histogram=histogram, status=status, session=session,
                     **dict(zip(controls.CONTROL_NAMES, control_inputs)), points_file=points_file,
                     pretrained=pretrained, view=view, show_data=show_data, show_samples=show_samples,
                     show_arrows=show_arrows, show_latent=show_latent, tabs=tabs, tab_state=tab_state,
                     lesson_step=lesson_step, lesson_panel=lesson_panel, lesson_indicator=lesson_indicator,
                     lesson_text=lesson_text, classroom=classroom)
        setup_outputs = [parts[name] for name in SETUP_OUTPUTS]
        quiet = dict(api_name=False, show_progress="hidden", **many)
        link_inputs = [tab_state, lesson_step, classroom, view, show_data, show_samples, show_arrows, show_latent,
                       *control_inputs]

        def to_address(event):
            """After `event` made the link's query string: into the address bar and the link box."""
            event.then(None, [link_query], [link_box], js=LINK_JS, api_name=False, show_progress="hidden")

        def then_link(event):
            to_address(event.then(current_link, [session, *link_inputs], [link_query], **quiet))

        then_link(demo.load(link_loader(tab_names), [session], setup_outputs, api_name=False, **many))
        demo.unload(close_page)
        then_link(link_in.submit(lambda s, query: open_link(s, query, tab_names), [session, link_in], setup_outputs,
                                 api_name="open_link", **many))
        then_link(lesson_next.click(lesson_move(+1), [session, lesson_step], setup_outputs, api_name="lesson_next",
                                    **many))
        then_link(lesson_prev.click(lesson_move(-1), [session, lesson_step], setup_outputs, api_name="lesson_prev",
                                    **many))
        classroom.change(set_classroom, [classroom], [networks_accordion, files_accordion, lr_energy, lr_generator],
                         api_name=False, **many)
        # the open tab is noted in the browser: no round trip, so no race with the tab's own handler
        for tab, name in zip(tab_items, tab_names):
            then_link(tab.select(None, None, [tab_state], js=f"() => {json.dumps(name)}", api_name=False))
        # not on the status line, which changes with every frame while training: on what changes the experiment
        to_address(gr.on([c.change for c in (*link_inputs[2:], pretrained)], current_link, [session, *link_inputs],
                         [link_query], trigger_mode="always_last", **quiet))
        to_address(gr.on([train_button.click, reset_button.click, pair_upload.upload], live_run_link,
                         [session, *link_inputs], [link_query], **quiet))
        to_address(pretrained.input(chosen_pair_link, [session, pretrained, *link_inputs], [link_query], **quiet))
        copy_link.click(None, None, [link_box], js=COPY_JS, api_name=False, show_progress="hidden")
        # ---- densities tab
        density_inputs = [session, density_scale]
        density_outputs = [density_plot, entropy_plot, density_table, status, session]
        density_button.click(draw_densities, density_inputs, density_outputs, api_name="densities", **view_outputs)
        densities_tab.select(draw_densities, density_inputs, density_outputs, api_name=False, **view_outputs)
        density_scale.change(draw_densities, density_inputs, density_outputs, api_name=False, **view_outputs)
        density_timer.tick(tick_densities, density_inputs, density_outputs, api_name=False, show_progress="hidden",
                           **many)
        tabs.select(densities_shown, None, [density_timer], api_name=False, **many)
    return demo


gr.set_static_paths([PLOTLY_JS_DIR])


def main() -> None:
    parser = argparse.ArgumentParser(description="EnergyLab: the explorer in your browser")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("ENERGYLAB_THREADS", "1")),
                        help="torch CPU threads per training (default 1)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    set_threads(args.threads)
    # torch releases the GIL in every op; a short switch interval hands it back to the training
    # thread sooner when a request handler holds it (the default 5 ms cost live training ~10 %)
    sys.setswitchinterval(0.001)
    demo = build_app()
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are read by launch() itself
    demo.queue(default_concurrency_limit=None).launch(
        share=args.share, inbrowser=not (os.environ.get("SPACE_ID") or os.environ.get("ENERGYLAB_NO_BROWSER")),
        theme=gr.themes.Soft(), head=PLOTLY_HEAD, show_error=False, max_file_size=MAX_UPLOAD_BYTES, prevent_thread_lock=True,
        app_kwargs={"middleware": [Middleware(NewPagesFirst)]})   # a new visitor's page before other runs' chunks
    warm_up(demo)
    demo.block_thread()


def warm_up(demo: gr.Blocks) -> None:
    """Open the default pair once in a throwaway session while the first browser is still loading
    the page's scripts: the first visitor then finds plotly's subplot layout, torch's kernels and
    the file cache warm (cold, their first page load took ~0.5 s more on this 2-core machine); and
    its figures become the first view of every page served after (FIRST_VIEW_MARK)."""
    session = Session()
    try:
        outputs = dict(zip(SETUP_OUTPUTS, open_link(session, [])))
        frame, _ = session.latest()
        if frame is not None and frame.landscape is not None:
            # the heatmap alone, as while training: a cold browser draws it in about half the time of
            # the contours, which the load event brings next (the same figure drawn in full)
            outputs["landscape"] = figure_json(figures.landscape_figure(frame, **session.view, contours=False))
        session.close()
        serve_first_view(demo, outputs)
    except Exception:  # noqa: BLE001 - a warm-up must never stop the app; the visitor's own call reports
        log.exception("warm-up failed")


def serve_first_view(demo: gr.Blocks, outputs: dict) -> None:
    """Put the default pair's figures in the page config that every later page is served with
    (the config Gradio made at launch, a dict it copies per page); marked, see FIRST_VIEW_MARK."""
    components = {c.get("props", {}).get("elem_id"): c for c in demo.config["components"]}
    for name in FIRST_VIEWS:
        if isinstance(outputs.get(name), str) and name in components:
            components[name]["props"]["value"] = FIRST_VIEW_MARK + outputs[name]


if __name__ == "__main__":
    main()