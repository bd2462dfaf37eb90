"""EnergyLab: an interactive explorer of Kim & Bengio (2016), deep directed generative models with
energy-based probability estimation. `python app.py` opens it in the browser.

Layout and thin handlers only; the logic lives in explorer/ (runs, probes, figures, controls).
Each browser session owns one `Session` (its run and training thread), kept in gr.State: made by
the first handler that runs, returned with every frame.
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import shutil
import sys
import tempfile
import time

import gradio as gr
import plotly

from explorer import catalogue, controls, density_figures, density_tab, figures, pair_files, view_figures, views
from explorer.cli import set_threads
from explorer.datasets import DATASET_NAMES, load_points
from explorer.errors import UserInputError, expected_errors
from explorer.live import FRAME_SECONDS, LiveSession
from explorer.options import DATASET_DEFAULTS, OPTION_BY_NAME, resolve

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
SIDE_PLOTS_EVERY = 3   # while training, curves and histograms come with every 3rd frame (about 1 a second)
INTRO = """# EnergyLab
**Deep directed generative models with energy-based probability estimation** (Kim & Bengio, 2016).
An energy function *E(x)* and a generator *G(z)* learn together: the energy pushes real data down and
generated samples up, `L_E = E[E(x_data)] - E[E(G(z))]`; the generator minimises
`KL(p_G || p_E) = E[E(G(z))] - H(p_G)` + const, so it samples from `p_E(x) = exp(-E(x)) / Z` without MCMC.
The entropy term *H* keeps it from collapsing onto one well: set its weight to 0 and watch."""


# ---------------------------------------------------------------------------- a plot that redraws in place
# gr.Plot re-creates its Plotly chart on every update (a full newPlot); streamed frames then pile
# up in a slow browser. This view keeps one chart and calls Plotly.react, which only redraws what
# changed. plotly.js is served from the installed plotly package: nothing is fetched from the web.
PLOTLY_JS_DIR = os.path.join(os.path.dirname(plotly.__file__), "package_data")
PLOTLY_HEAD = f'<script src="/gradio_api/file={PLOTLY_JS_DIR}/plotly.min.js"></script>'
PLOTLY_JS = """
const target = element.querySelector('.energylab-plot');
const draw = () => {
  if (!props.value) return;
  const figure = JSON.parse(props.value);
  window.Plotly.react(target, {data: figure.data, layout: figure.layout, frames: figure.frames || [],
                               config: {responsive: true, displaylogo: false}}).then(listen);
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
"""


def plotly_view(elem_id: str, height: int) -> gr.HTML:
    return gr.HTML(None, html_template=f'<div class="energylab-plot" style="min-height:{height}px"></div>',
                   js_on_load=PLOTLY_JS, head=PLOTLY_HEAD, elem_id=elem_id, min_height=height)


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
        self.densities = density_tab.DensityState()


def ensure(session) -> Session:
    """The browser session's Session, made on its first event."""
    return session if isinstance(session, Session) else Session()


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
    run = session.load(str(pair.folder), f"pretrained: {pair.name}", catalogue.points_path(pair.folder))
    note = f"loaded in {time.perf_counter() - started:.2f} s"
    return draw(session, note) + control_updates(run.options) + (gr.update(value=name),)


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
        done = session.step(int(count), update)
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
    session.apply_live_settings(options_of(session, values))
    return only_status(session, "settings applied")


@guarded()
def change_view(session: Session, view, show_data, show_samples, show_arrows, show_latent):
    session.view = {"view": view, "show_data": show_data, "show_samples": show_samples,
                    "show_arrows": show_arrows, "show_latent": show_latent}
    layers = {"arrows": bool(show_arrows), "latent": bool(show_latent)}
    if layers != session.layers:
        session.layers = layers
        if not session.training:  # the next frame of a live run brings them anyway
            session.publish(fine=True)
    return draw(session)


def change_dataset(dataset: str):
    """Show the dataset's own parameters and its defaults (explorer/options.py DATASET_DEFAULTS)."""
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
    run = session.load(folder, f"uploaded: {os.path.basename(paths[0])}", points)
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


def whole(value, name: str) -> int:
    if value is None or value != value or int(value) != value:
        raise UserInputError(f"{name} must be a whole number, got {value!r}")
    return int(value)


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
    """Gradio drops a closed tab's state: stop its training and remove its downloads."""
    if isinstance(session, Session):
        session.stop(wait=False)
        shutil.rmtree(session.export_dir, ignore_errors=True)


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
    # no minimum/maximum here: explorer/options.py checks bounds and says what is allowed, in the page
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
                with gr.Accordion("networks and seed (apply on Reset or a new Train)", open=False):
                    batch_size = number("batch_size", value=initial["batch_size"], precision=0)
                    hidden = number("hidden", value=initial["hidden"], precision=0)
                    energy_hidden = number("energy_hidden", value=0, precision=0)
                    latent_dim = number("latent_dim", value=initial["latent_dim"], precision=0)
                    seed = number("seed", value=initial["seed"], precision=0)
                with gr.Accordion("pair files", open=False):
                    download_button = gr.Button("Download the current pair (.zip)", elem_id="download")
                    download_file = gr.File(label="pair zip", visible=False, interactive=False)
                    pair_upload = gr.File(label="upload a pair (.zip, or config.json + model.safetensors)",
                                          file_count="multiple",
                                          elem_id="pair-upload")
            with gr.Column(scale=2):
                status = gr.Markdown("Loading…", elem_id="status")
                with gr.Tabs() as tabs:
                    with gr.Tab("Landscape", id="landscape-tab"):
                        landscape = plotly_view("landscape", 520)
                        with gr.Row():
                            view = gr.Radio(list(figures.LANDSCAPE_VIEWS), value="energy", label="show")
                            show_data = gr.Checkbox(True, label="real data")
                            show_samples = gr.Checkbox(True, label="generated samples")
                            show_arrows = gr.Checkbox(False, label="-∇E arrows")
                            show_latent = gr.Checkbox(False, label="latent grid G(z)")
                        with gr.Row():
                            histogram = plotly_view("histogram", 300)
                            curves = plotly_view("curves", 520)
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

        control_inputs = [dataset, modes, radius, spacing, std, sampler, entropy, entropy_weight, lr_energy,
                          lr_generator, batch_size, hidden, energy_hidden, latent_dim, steps, seed]
        frame_outputs = [landscape, curves, histogram, status, session]
        control_outputs = control_inputs + [points_file]
        many = dict(concurrency_limit=None)   # per-session work: one user's run never queues another's

        pretrained.input(choose_pretrained, [session, pretrained], frame_outputs + control_outputs + [pretrained],
                         api_name="choose_pretrained", **many)
        demo.load(lambda s: choose_pretrained(s, DEFAULT_PAIR if pairs else None), [session],
                  frame_outputs + control_outputs + [pretrained], api_name=False, **many)
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
        theme=gr.themes.Soft(), show_error=False)


if __name__ == "__main__":
    main()
