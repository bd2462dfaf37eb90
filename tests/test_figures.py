"""What a student sees in each figure (issue 19), checked on the Plotly figure dicts: legends clear of
titles and readable, curves whose axes fit the run and the data, one energy colour scale on every
tab, digits drawn large enough to read. tests/test_browser_figures.py checks the same in a browser."""
import numpy as np
import pytest
from plotly.colors import get_colorscale, hex_to_rgb, unlabel_rgb

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.figures.frame import (
    CURVES,
    MIN_CURVE_STEPS,
    curve_panels,
    curves_figure,
    histogram_figure,
    landscape_figure,
)
from explorer.figures.views import PAGE_FIGURE_WIDTH, embedding_figure, gallery_figure, interpolation_figure
from explorer.measures.gallery import Gallery, draw_latents, interpolate, make_gallery
from explorer.training.run import Run

SMALL = {"dataset": "ring", "hidden": 16, "latent_dim": 2, "batch_size": 32, "steps": 60, "seed": 0}


@pytest.fixture(scope="module")
def ring():
    run = Run(resolve(None, SMALL))
    run.advance(30)
    return run


@pytest.fixture(scope="module")
def digits():
    return Run(resolve(preset_options("digits"), {"hidden": 16, "steps": 2}))


def json_of(figure) -> dict:
    return figure if isinstance(figure, dict) else figure.to_plotly_json()


# ---------------------------------------------------------------------------- colours
def low_energy_colour(spec: dict) -> tuple:
    """The colour a scale gives the lowest energy, as (r, g, b)."""
    scale = spec["colorscale"]
    scale = get_colorscale(scale) if isinstance(scale, str) else scale
    colour = (scale[-1] if spec.get("reversescale") else scale[0])[1]
    return tuple(hex_to_rgb(colour) if colour.startswith("#") else unlabel_rgb(colour))


def contrast_on_white(colour: str) -> float:
    """WCAG contrast ratio of an rgba() colour, laid over white, against white."""
    r, g, b, *alpha = (float(v) for v in colour[colour.index("(") + 1:-1].split(","))
    alpha = alpha[0] if alpha else 1.0
    channels = [(c * alpha + 255 * (1 - alpha)) / 255 for c in (r, g, b)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_low_energy_is_one_colour_on_every_tab(ring):
    landscape = json_of(landscape_figure(ring.frame(fine=True)))["data"][0]
    gallery = make_gallery(ring.energy, ring.generator, ring.probe_real, 20, seed=0)
    gallery_trace = next(t for t in json_of(gallery_figure(gallery))["data"] if t["name"] == "generated")
    path = interpolate(ring.energy, ring.generator, *draw_latents(2, 2, 0), 5)
    path_trace = next(t for t in json_of(interpolation_figure(path))["data"] if t["name"] == "path")
    rng = np.random.default_rng(0)
    umap = json_of(embedding_figure(rng.normal(size=(9, 2)), rng.normal(size=(9, 2)), colour_by="energy",
                                    real_energies=np.arange(9.0), fake_energies=np.arange(9.0)))["data"][0]
    colours = {low_energy_colour(spec) for spec in (landscape, gallery_trace["marker"], path_trace["marker"],
                                                    umap["marker"])}
    assert colours == {low_energy_colour(landscape)}, colours


def test_the_latent_grid_and_its_legend_entry_can_be_seen_on_white(ring):
    figure = json_of(landscape_figure(ring.frame(fine=True), show_latent=True))
    grid = next(t for t in figure["data"] if t["name"] == "G(latent grid)")
    assert contrast_on_white(grid["line"]["color"]) >= 3.0


# ---------------------------------------------------------------------------- histogram and curves
def test_the_histograms_legend_sits_at_the_figures_foot_not_in_the_titles_band(ring):
    layout = json_of(histogram_figure(ring.frame()))["layout"]
    legend = layout["legend"]
    # at the container's bottom edge, under the axis title: above the plot it wrapped into the title
    assert (legend["yref"], legend["y"], legend["yanchor"]) == ("container", 0.0, "bottom")
    assert layout["margin"]["b"] >= 90


def panel_titles(figure: dict) -> list[str]:
    return [a["text"] for a in figure["layout"]["annotations"]]


def test_each_two_line_panel_names_its_lines_in_their_colours(ring):
    figure = json_of(curves_figure(ring.frame().history, ring.options["steps"]))
    titles = panel_titles(figure)
    drawn = {t["name"]: t["line"]["color"] for t in figure["data"] if "name" in t}
    for title, lines, _ in curve_panels():
        shown = [(label, colour) for key, label, colour in lines if label in drawn or key != "validation_nll"]
        heading = next(t for t in titles if t.startswith(title))
        if len(shown) > 1:
            for label, colour in shown:
                assert f'color:{colour}">━ {label}<' in heading
                assert drawn[label] == colour     # the key's colour is the line's
        else:
            assert "<br>" not in heading


def panel_axes(figure: dict) -> list[tuple[str, str]]:
    """Each panel's (x axis, y axis) as traces name them: x, y for the first, x2, y2 for the second..."""
    count = sum(1 for name in figure["layout"] if name.startswith("xaxis"))
    return [("x" + s, "y" + s) for s in ["", *map(str, range(2, count + 1))]]


def test_the_step_axis_grows_with_the_run_and_every_panel_has_axes_from_step_0():
    start = json_of(curves_figure({}, 30_000, step=0))
    assert start["layout"]["xaxis"]["range"] == [0, MIN_CURVE_STEPS]
    used = {(t["xaxis"], t["yaxis"]) for t in start["data"]}
    assert set(panel_axes(start)) <= used        # plotly draws no axes for a panel without a trace
    # an explicit range, not one a chart kept from the page's last run
    assert all(start["layout"]["yaxis" + y[1:]]["range"] == [0, 1] for _, y in panel_axes(start))
    steps = np.arange(0, 1501, 10)
    history = {"loss_energy": (steps, np.zeros(len(steps))), "nll": (steps[::25], np.ones(len(steps[::25])))}
    early = json_of(curves_figure(history, 30_000, step=1500))
    ranges = {name: axis["range"] for name, axis in early["layout"].items() if name.startswith("xaxis")}
    assert len(ranges) == 6 and all(r == [0, 2000] for r in ranges.values())   # not a sliver of 30,000
    assert json_of(curves_figure(history, 30_000, step=1700))["layout"]["xaxis"]["range"] == [0, 2000]   # not moved
    assert json_of(curves_figure(history, 30_000, step=29_000))["layout"]["xaxis"]["range"] == [0, 30_000]
    done = json_of(curves_figure(history, 1500, step=1500))
    assert done["layout"]["xaxis"]["range"] == [0, 1500]      # never past the planned end


def test_digits_curves_leave_out_the_panels_of_2d_points(digits):
    digits.advance(2)
    figure = json_of(curves_figure(digits.frame().history, 2, step=2, images=True))
    headings = [t.split("<br>")[0] for t in panel_titles(figure)]
    assert headings == ["losses", "mean E", "entropy estimate H", "classes covered (of 10)"]
    assert not {"NLL (nats)", "high-quality fraction", "modes covered"} & set(headings)
    assert len(panel_axes(figure)) == 4 and len(curve_panels()) == 6 and len(CURVES) == 7


# ---------------------------------------------------------------------------- galleries and paths
def test_a_2d_gallery_labels_its_extremes_apart_even_in_one_well(ring):
    rng = np.random.default_rng(0)
    samples = rng.uniform(-2, 2, size=(20, 2)).astype(np.float32)
    energies = rng.uniform(0, 10, size=20).astype(np.float32)
    energies[[3, 7, 11, 12, 19]] = [-5, -4, -3, -2, -1]
    samples[[3, 7, 11, 12, 19]] = [0.5, 0.5]          # the five lowest in one place
    gallery = Gallery(samples, energies, None, samples[:5], energies[:5], 0)
    figure = json_of(gallery_figure(gallery))
    lowest = [a for a in figure["layout"]["annotations"] if (a["x"], a["y"]) == (0.5, 0.5)]
    assert sorted(a["text"] for a in lowest) == ["#11", "#12", "#19", "#3", "#7"]
    assert len({(round(a["ax"]), round(a["ay"])) for a in lowest}) == 5   # five arrows, five directions


def test_sorting_a_2d_gallery_renumbers_it_from_the_lowest_energy(ring):
    drawn = make_gallery(ring.energy, ring.generator, ring.probe_real, 30, seed=1)
    sorted_ = make_gallery(ring.energy, ring.generator, ring.probe_real, 30, seed=1, sort_by_energy=True)
    labels = {}
    for name, gallery in (("drawn", drawn), ("sorted", sorted_)):
        figure = json_of(gallery_figure(gallery))
        stars = next(t for t in figure["data"] if t["name"] == "5 lowest energy")
        labels[name] = (list(stars["text"]), figure["layout"]["title"]["text"])
    assert labels["sorted"][0] == ["#0", "#1", "#2", "#3", "#4"] and "from the lowest energy" in labels["sorted"][1]
    assert labels["drawn"][0] == [f"#{i}" for i in np.argsort(drawn.energies, kind="stable")[:5]]
    assert labels["drawn"] != labels["sorted"]


def thumbnail_pixels(figure, index: int = 0, width: int = PAGE_FIGURE_WIDTH) -> float:
    """Screen pixels of one 8 x 8 image in montage trace `index`, as plotly fits its square pixels
    into its panel at the page's default width."""
    layout, trace = figure.layout, figure.data[index]
    x_axis = layout["xaxis" + (trace.xaxis or "x")[1:]]
    y_axis = layout["yaxis" + (trace.yaxis or "y")[1:]]
    rows, columns = np.asarray(trace.z, dtype=float).shape
    wide = (width - layout.margin.l - layout.margin.r) * (x_axis.domain[1] - x_axis.domain[0])
    tall = (layout.height - layout.margin.t - layout.margin.b) * (y_axis.domain[1] - y_axis.domain[0])
    return 8 * min(wide / columns, tall / rows)


def test_digits_are_drawn_at_least_48_pixels_square(digits):
    frame = digits.frame()
    assert thumbnail_pixels(landscape_figure(frame)) >= 48
    gallery = make_gallery(digits.energy, digits.generator, digits.probe_real, 64, seed=0)
    figure = gallery_figure(gallery)
    assert min(thumbnail_pixels(figure, i) for i in (0, 1)) >= 48
    path = interpolate(digits.energy, digits.generator, *draw_latents(digits.generator.config.latent_dim, 2, 0), 24)
    assert thumbnail_pixels(interpolation_figure(path)) >= 48


def test_the_digits_paths_energy_axis_is_its_steps(digits):
    path = interpolate(digits.energy, digits.generator, *draw_latents(digits.generator.config.latent_dim, 2, 0), 24)
    figure = interpolation_figure(path)
    energy = next(t for t in figure.data if t.name == "energy")
    assert list(energy.x) == list(range(24))
    assert figure.layout["xaxis" + energy.xaxis[1:]].range == (-0.5, 23.5)


def test_umap_by_class_gives_each_class_one_colour_and_a_legend_entry():
    rng = np.random.default_rng(0)
    real_labels, fake_labels = np.arange(40) % 10, np.r_[np.zeros(25, int), np.full(5, 3)]
    figure = embedding_figure(rng.normal(size=(40, 2)), rng.normal(size=(30, 2)), colour_by="class",
                              real_labels=real_labels, fake_labels=fake_labels,
                              real_images=np.zeros((40, 64)), fake_images=np.zeros((30, 64)))
    assert [t.name for t in figure.data] == [str(c) for c in range(10)]
    colours = [t.marker.color for t in figure.data]
    assert all(isinstance(c, str) for c in colours) and len(set(colours)) == 10   # categories, not a scale
    assert all(t.showlegend is not False for t in figure.data) and figure.layout.legend.title.text == "class"
    zero = figure.data[0]   # 4 real and 25 generated zeros, circles and diamonds, each with its image
    assert list(zero.marker.symbol).count("diamond") == 25 and len(zero.customdata) == 29
