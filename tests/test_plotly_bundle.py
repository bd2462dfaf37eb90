"""The page's plotly.js is the vendored cartesian bundle, and no figure needs a trace it lacks."""
import glob
import os
import re

import plotly

from explorer.ui import plot_view

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the trace modules of plotly.js-cartesian-dist-min (its README)
CARTESIAN = {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image", "pie",
             "scatter", "scatterternary", "violin"}


def test_the_head_loads_the_vendored_bundle_of_plotly_pys_version():
    path = os.path.join(plot_view.PLOTLY_JS_DIR, plot_view.PLOTLY_JS_FILE)
    assert os.path.isfile(path) and os.path.getsize(path) < 2_000_000
    with open(path) as f:
        header = f.read(300)
    with open(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")) as f:
        full = f.read(300)
    version = re.search(r"v(\d+\.\d+\.\d+)", header).group(1)
    assert "cartesian" in header and version == re.search(r"v(\d+\.\d+\.\d+)", full).group(1)
    assert plot_view.PLOTLY_JS_FILE in plot_view.PLOTLY_HEAD and "async" in plot_view.PLOTLY_HEAD


def test_every_trace_type_the_code_builds_is_in_the_bundle():
    sources = [os.path.join(ROOT, "app.py")] + glob.glob(os.path.join(ROOT, "explorer", "**", "*.py"), recursive=True)
    used = set()
    for path in sources:
        with open(path) as f:
            text = f.read()
        used |= {name.lower() for name in re.findall(r"\bgo\.([A-Z][A-Za-z0-9]*)\(", text)} - {"figure", "frame"}
        used |= set(re.findall(r"""["']?\btype["']?\s*[:=]\s*["']([a-z0-9]+)["']""", text)) - {
            "button", "buttons", "line", "range", "rect", "circle", "path", "linear", "log", "category", "date",
            "data"}   # error bars' type (error_y=dict(type="data", array=...)), not a trace
    assert used and used <= CARTESIAN, used - CARTESIAN
