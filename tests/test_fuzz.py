"""Property-based tests: random values thrown at the command line and at the app's handlers
(in-process, the same functions the page calls) find no crash, and every refusal is a clear
one-line message, never a trace. 2,300 cases in all, derandomised (the same every run)."""
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.config.options import OPTIONS, resolve
from explorer.config.presets import PRESETS, preset_options
from explorer.errors import UserInputError, expected_errors
from explorer.page import controls
from explorer.page.runs import STEP_CHOICES
from explorer.page.state import PageState
from explorer.train import parse_args
from explorer.training.run import Run
from explorer.ui.layout import build_page
from explorer.ui.tabs import compare as compare_tab
from explorer.ui.tabs import train as train_tab
from explorer.ui.tabs import views as views_tab
from models import ESTIMATORS

EXPECTED = expected_errors()
ANY = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-10, max_value=5000),
    st.text(max_size=10), st.sampled_from(["1e400", "-inf", "nan", " 5 ", "0x10", "2.5", "ring", "knn", "", "١٢"]),
)
# a valid value of each control, so that many cases get past the first check and deeper
VALID = {"dataset": st.sampled_from(["ring", "grid", "moons", "spirals", "digits"]), "modes": st.integers(1, 30),
         "radius": st.floats(0.1, 10), "spacing": st.floats(0.1, 10), "std": st.floats(0.01, 2),
         "sampler": st.sampled_from(["generator", "langevin"]), "method": st.sampled_from(["energylab", "paper"]),
         "entropy": st.sampled_from(list(ESTIMATORS)), "entropy_weight": st.floats(0, 100),
         "lr_energy": st.floats(1e-6, 1), "lr_generator": st.floats(1e-6, 1), "batch_size": st.integers(2, 64),
         "hidden": st.integers(4, 32), "energy_hidden": st.integers(0, 32), "latent_dim": st.integers(1, 16),
         "steps": st.integers(300, 10**6), "seed": st.integers(0, 2**31 - 1)}
FUZZ = settings(max_examples=700, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@st.composite
def control_values(draw):
    """Every control valid but 0-2 of them, which get anything at all: so many cases train."""
    values = [draw(VALID[name]) for name in controls.CONTROL_NAMES]
    for index in draw(st.lists(st.integers(0, len(values) - 1), max_size=2)):
        values[index] = draw(ANY)
    return tuple(values)


def clean_message(text: str) -> None:
    assert "Traceback" not in text and "something went wrong" not in text, text


# ---------------------------------------------------------------------------- the command line
@st.composite
def command_lines(draw):
    argv = []
    if draw(st.booleans()):
        argv += ["--preset", draw(st.one_of(st.sampled_from([p for p in PRESETS if p != "points"]),
                                            st.text(max_size=6)))]
    for option in draw(st.lists(st.sampled_from(OPTIONS), max_size=5, unique=True)):
        value = draw(st.one_of(VALID[option.name], ANY) if option.name in VALID else ANY)
        argv += [option.flag, str(value)]
    return argv


@FUZZ
@given(argv=command_lines())
def test_the_command_line_accepts_or_refuses_cleanly(argv):
    """explorer.train up to its first step: parse, resolve, build the data and networks. argparse's
    own refusals are one line and exit status 2; everything else is a UserInputError."""
    try:
        args = parse_args(argv)
    except SystemExit as e:
        assert e.code == 2
        return
    given_values = {o.name: getattr(args, o.name) for o in OPTIONS}
    given_values["steps"] = 1 if given_values["steps"] is not None else None
    try:
        options = resolve(preset_options(args.preset), given_values)
        energy_width = options.get("energy_hidden") or 0 or options["hidden"]
        if min(options["hidden"], energy_width) > 256 or options["batch_size"] > 512:
            return   # valid, but building it is slow: the bounds themselves are tested in test_options
        Run(options)
    except EXPECTED as e:
        assert str(e) and "\n" not in str(e), str(e)


# ---------------------------------------------------------------------------- the app's handlers
@pytest.fixture(scope="module")
def page():
    """The page's components, which the handlers key their updates by."""
    return build_page()


@pytest.fixture(scope="module")
def session():
    return PageState()


@pytest.fixture(scope="module")
def pair_sessions(page):
    """Their own sessions, each with a pretrained pair loaded: independent of what the other fuzz
    tests left behind in `session`."""
    sessions = []
    for name in ("ring", "ring-langevin"):
        session = PageState()
        train_tab.choose_pretrained(page, session, name)
        assert session.live.run is not None
        sessions.append(session)
    return sessions


@FUZZ
@given(values=control_values())
def test_the_server_side_check_of_the_controls_accepts_or_refuses_cleanly(values):
    """What every handler runs first: control values -> checked options, or a clear message."""
    try:
        options = controls.options_from_controls(dict(zip(controls.CONTROL_NAMES, values, strict=False)), None)
    except UserInputError as e:
        assert str(e) and "\n" not in str(e) and "--" not in str(e), str(e)   # the page's labels, not flags
        return
    for option in OPTIONS:
        value = options.get(option.name)
        if option.low is not None and value is not None:
            assert option.low <= value <= option.high and math.isfinite(value)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(values=control_values(), count=st.one_of(st.sampled_from(STEP_CHOICES[:2]), ANY))
def test_the_step_handler_never_crashes(page, session, values, count):
    """The Step button with those values: a new run is built and stepped, or a clear message."""
    outputs = train_tab.step_handler("both")(page, session, count, *values)
    clean_message(outputs[page.status])
    assert outputs[page.state] is session


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(size=ANY, seed=ANY, steps=ANY, first=ANY, method=st.one_of(st.sampled_from(["linear", "spherical"]), ANY))
def test_view_handlers_never_crash(page, pair_sessions, size, seed, steps, first, method):
    """Gallery and interpolation on a generator pair and on the Langevin baseline (whose gallery
    runs chains: a size is checked before any is started)."""
    for session in pair_sessions:
        clean_message(views_tab.draw_gallery(page, session, size, seed, True)[page.status])
        outputs = views_tab.draw_interpolation(page, session, "gallery", first, 1, seed, steps, method)
        clean_message(outputs[page.status])


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(preset=st.one_of(st.sampled_from(list(PRESETS)), ANY),
       contrast=st.one_of(st.sampled_from(["entropy", "estimator", "sampler"]), ANY),
       left=ANY, right=ANY, seed=ANY, steps=ANY)
def test_compare_handler_never_crashes(page, session, preset, contrast, left, right, seed, steps):
    outputs = next(compare_tab.compare_train(page, session, preset, contrast, left, right, seed, steps))
    clean_message(outputs[page.compare.status])
    if session.comparison is not None:
        session.comparison.close()
        session.comparison = None
