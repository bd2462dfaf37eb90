"""The lesson (explorer/page/lesson.py): its content is valid data, its claims are true, and the page
sets each step up (through gradio_client against `python app.py`)."""
import math
import os
import re

import pytest
import torch

from explorer.config import options
from explorer.config.presets import PRESETS
from explorer.figures.frame import LANDSCAPE_VIEWS
from explorer.page import lesson
from explorer.pairs import catalogue
from explorer.studies import engine
from models import Generator, GeneratorConfig
from models.checkpoint import read_config
from models.entropy import batchnorm_entropy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIRS = {pair.name for pair in catalogue.pretrained_pairs()}


def metrics(name: str) -> dict:
    return catalogue.metrics(catalogue.find(name).folder)


# ---------------------------------------------------------------------------- content
def test_the_story_has_six_or_seven_steps_each_with_a_title_and_text():
    assert 6 <= len(lesson.STEPS) <= 7
    for step in lesson.STEPS:
        assert step.title.strip() and len(step.text.strip()) > 200
        assert "**" in step.text   # says what to look at or press, in bold


@pytest.mark.parametrize("number", range(1, len(lesson.STEPS) + 1))
def test_every_step_sets_up_something_that_exists(number):
    setup = lesson.step(number).setup
    assert (setup.pair is None) != (setup.preset is None), "a step shows a pair or a new run, not both"
    if setup.pair is not None:
        assert setup.pair in PAIRS
        assert setup.resolved_options() is None
    else:
        assert setup.preset in PRESETS
        resolved = setup.resolved_options()   # raises UserInputError on a bad or out-of-bounds option
        assert resolved == options.resolve(None, resolved)
    assert setup.view in LANDSCAPE_VIEWS
    assert set(setup.layers) <= set(lesson.LAYERS)
    assert setup.tab in lesson.TABS


def test_views_are_the_figures_views():
    assert lesson.VIEWS == tuple(LANDSCAPE_VIEWS)


def test_the_story_follows_the_brief():
    pairs = [step.setup.pair for step in lesson.STEPS]
    assert pairs[3] == "lesson-no-entropy" and pairs[4] == "lesson" and pairs[5] == "ring-langevin"
    last = lesson.STEPS[-1].setup
    assert last.preset == "lesson" and last.resolved_options()["entropy_weight"] == 0.0
    assert "Compare" in lesson.STEPS[-1].text
    assert "log Z" in lesson.STEPS[1].title
    assert "surrogate, not a bound" in lesson.STEPS[4].text


def test_indicator_names_the_step_and_marks_one_dot():
    for number in range(1, len(lesson.STEPS) + 1):
        text = lesson.indicator(number)
        assert f"Step {number} of {len(lesson.STEPS)}" in text and lesson.step(number).title in text
        assert text.count("●") == 1 and text.count("○") == len(lesson.STEPS) - 1
    assert "Next" in lesson.indicator(0)
    with pytest.raises(IndexError):
        lesson.step(len(lesson.STEPS) + 1)


# ---------------------------------------------------------------------------- the claims are true
def test_numbers_quoted_are_the_pairs_measured_ones():
    collapsed, covered = metrics("lesson-no-entropy"), metrics("lesson")
    assert f"**{collapsed['modes_covered']} of {collapsed['modes_total']} modes**" in lesson.STEPS[3].text
    assert f"{round(100 * collapsed['high_quality_fraction'])} %" in lesson.STEPS[3].text
    assert f"**{round(100 * collapsed['mass_outside'])} %** of its mass outside" in lesson.STEPS[3].text
    assert f"**{collapsed['nll']:.1f} nats**, against **{covered['nll']:.1f}**" in lesson.STEPS[3].text
    assert f"**{covered['modes_covered']} of {covered['modes_total']} modes**" in lesson.STEPS[4].text
    # step 5's "Try": the paper's pair covers the ring but is no density; EnergyLab's covers it and is one
    paper, ours = metrics("ring-paper"), metrics("ring")
    assert paper["modes_covered"] == ours["modes_covered"] == metrics("ring-no-entropy")["modes_covered"] == 8
    assert paper["nll"] - ours["nll_true"] > 100 and ours["nll_gap"] < 0.5   # the same ring: the same true NLL
    text = lesson.STEPS[5].text
    assert f"about **{round(metrics('ring-langevin')['steps_per_second'])} steps/s**" in text
    assert f"(`ring-paper`) at about **{round(paper['steps_per_second'])} steps/s**" in text


def lesson_study_modes(method: str) -> list[int]:
    """Modes covered by each seed of the committed `lesson` study's `method` rows."""
    records = engine.read_records(os.path.join(ROOT, "assets", "studies", "lesson"))
    return [r["metrics"]["modes_covered"] for r in records if r["method"] == method and r["status"] == "done"]


def test_a_retrains_numbers_are_quoted_as_the_lesson_studys_range_over_seeds_with_the_cpu_caveat():
    """Issue 19: a retrain's number is a range over seeds from a committed study, and the texts say a
    retrain on another CPU differs (the shipped pair's own numbers are quoted as the pair's)."""
    without, with_entropy = lesson_study_modes("no-entropy"), lesson_study_modes("knn")
    assert len(without) == len(with_entropy) == 10
    spread = f"{min(without)} to {max(without)} of 8"
    mean = f"mean {sum(without) / len(without):.1f}"
    collapse, restore, try_it = lesson.STEPS[3].text, lesson.STEPS[4].text, lesson.STEPS[6].text
    assert f"**{spread} modes** over seeds 0-9" in collapse and mean in collapse
    assert "another CPU" in collapse
    assert min(with_entropy) == 8 and "as on every seed 0-9" in restore
    assert f"({spread} over seeds 0-9" in try_it
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert f"covers {spread.replace(' of 8', '')} of the ring's 8 modes over seeds 0-9 ({mean})" in readme


def test_log_z_gradient_is_minus_the_model_average_of_the_energy_gradient():
    """Step 2's identity on a 1-D energy E(x) = a x^2 + b x^4, by quadrature and autograd:
    d/dtheta log Z = -E_{p_E}[dE/dtheta]."""
    theta = torch.tensor([0.7, 0.3], dtype=torch.float64, requires_grad=True)
    x = torch.linspace(-6, 6, 20001, dtype=torch.float64)
    dx = x[1] - x[0]

    def energy(t):
        return t[0] * x ** 2 + t[1] * x ** 4

    log_z = torch.logsumexp(-energy(theta), 0) + torch.log(dx)
    (grad_log_z,) = torch.autograd.grad(log_z, theta)
    with torch.no_grad():
        p = torch.softmax(-energy(theta), 0)
        expected = -torch.stack([(p * x ** 2).sum(), (p * x ** 4).sum()])   # dE/da = x^2, dE/db = x^4
    assert torch.allclose(grad_log_z, expected, rtol=1e-9)


def test_batchnorm_entropy_is_a_surrogate_rescaling_changes_it_not_the_samples():
    """Step 5: gamma (and beta) of one unit times c, the next layer's weights from it over c:
    the same samples (ReLU is positively homogeneous), an estimate larger by log c."""
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(data_dim=2, latent_dim=4, hidden=16, depth=2))
    z = generator.sample_latent(256, torch.Generator().manual_seed(1))
    with torch.no_grad():
        before, h_before = generator(z), batchnorm_entropy(generator)
    c, unit = 5.0, 3
    bn, following = generator.net[1], generator.net[3]
    with torch.no_grad():
        bn.weight[unit] *= c
        bn.bias[unit] *= c
        following.weight[:, unit] /= c
    with torch.no_grad():
        after, h_after = generator(z), batchnorm_entropy(generator)
    assert torch.allclose(before, after, atol=1e-5)
    assert math.isclose(float(h_after - h_before), math.log(c), rel_tol=1e-4)


# ---------------------------------------------------------------------------- the page
gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def named(outputs) -> dict:
    """The setup outputs by name (gradio_client leaves out states and layout blocks)."""
    from explorer.ui.tabs.lesson import SETUP_OUTPUTS
    hidden = {"session", "tabs", "lesson_step", "lesson_panel"}
    names = [name for name in SETUP_OUTPUTS if name not in hidden]
    assert len(names) == len(outputs)
    return dict(zip(names, outputs, strict=True))


def test_next_and_prev_set_each_step_up(client):
    first = named(client.predict(api_name="/lesson_prev"))   # before the lesson: nothing to go back to
    assert "this is the first step" in first["status"]
    for number in range(1, len(lesson.STEPS) + 1):
        shown = named(client.predict(api_name="/lesson_next"))
        setup = lesson.step(number).setup
        assert f"lesson step {number} of {len(lesson.STEPS)}" in shown["status"]
        assert f"Step {number} of" in shown["lesson_indicator"] and shown["lesson_text"] == lesson.step(number).text
        assert shown["view"]["value"] == setup.view
        for layer in lesson.LAYERS:
            assert shown[f"show_{layer}"]["value"] == (layer in setup.layers)
        assert shown["tab_state"] == setup.tab
        if setup.pair:
            assert f"pretrained: {setup.pair}" in shown["status"] and shown["pretrained"]["value"] == setup.pair
            saved = catalogue.find(setup.pair)
            assert shown["dataset"]["value"] == saved_options(saved)["dataset"]
        else:   # a new run of the preset's options, waiting at step 0
            expected = setup.resolved_options()
            assert "step 0 / " in shown["status"] and "live run" in shown["status"]
            assert shown["pretrained"]["value"] is None
            for name in ("entropy", "entropy_weight", "lr_energy", "lr_generator", "latent_dim", "steps", "seed"):
                assert shown[name]["value"] == expected[name], name
    last = named(client.predict(api_name="/lesson_next"))
    assert "that was the last step" in last["status"] and "step 0 / " in last["status"]   # the run is left alone
    back = named(client.predict(api_name="/lesson_prev"))
    assert f"lesson step {len(lesson.STEPS) - 1}" in back["status"]


def saved_options(pair) -> dict:
    import json
    with open(pair.folder / "config.json") as f:
        return json.load(f)["options"]


def test_a_link_opens_a_lesson_step(client):
    shown = named(client.predict("lesson=4", api_name="/open_link"))
    assert "pretrained: lesson-no-entropy" in shown["status"] and "lesson step 4" in shown["status"]
    assert shown["lesson_indicator"].startswith("**Step 4 of")
    assert shown["entropy_weight"]["value"] == 0.0


def test_the_intro_points_where_collapse_is_shown_and_it_collapses_there():
    """The first page's invitation: the lesson's steps 4-5 and the Compare tab, whose default preset is
    the lesson's; the pair step 4 shows loses most of the ring's modes (its own evaluation)."""
    from explorer.page import compare
    from explorer.ui.layout import INTRO
    assert "**Lesson** (steps 4 and 5)" in INTRO and "**Compare** tab" in INTRO
    assert lesson.STEPS[3].setup.pair == "lesson-no-entropy" and lesson.STEPS[4].setup.pair == "lesson"
    collapsed = metrics("lesson-no-entropy")
    assert collapsed["modes_covered"] <= collapsed["modes_total"] / 2 and metrics("lesson")["modes_covered"] == 8
    assert compare.DEFAULT_PRESET == "lesson"
    assert "ring-paper" in INTRO and metrics("ring")["nll_gap"] < 0.5   # the first pair is a density


def collapse_promises(text: str) -> list[str]:
    """The sentences of `text` (README prose, a control's info) that speak of collapse."""
    sentences = re.split(r"(?<=[.;])\s+", " ".join(text.split()))
    return [s for s in sentences if "collaps" in s]


def test_no_text_promises_collapse_where_the_default_method_keeps_the_modes():
    """Weight 0 with EnergyLab's method (the default) keeps the ring's 8 modes, so the slider and the
    README's opening may promise collapse only of the paper's method, and point where it is shown."""
    from explorer.ui.layout import build_page
    kept = catalogue.find("ring-no-entropy")
    assert read_config(str(kept.folder))["options"]["method"] == options.OPTION_BY_NAME["method"].default == "energylab"
    assert metrics("ring-no-entropy")["modes_covered"] == metrics("ring-no-entropy")["modes_total"] == 8
    slider = build_page().train.controls["entropy_weight"]
    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "README.md")) as f:
        opening = f.read().split("## Set up")[0]
    for text in (slider.info, opening):
        promises = [s for s in collapse_promises(text) if "off" in s or "0 =" in s]
        assert promises, text   # each still says what weight 0 does
        for sentence in promises:
            assert "paper's method" in sentence and "Lesson" in sentence and "Compare" in sentence, sentence


def test_pair_labels_are_words_and_say_collapse_only_where_the_pair_lost_modes():
    """Issue 19: the menu called pairs "(collapse)" that kept every mode, and some labels carried
    command-line text; each label now says in words what the pair's own metrics.json measured."""
    for pair in catalogue.pretrained_pairs():
        assert "--" not in pair.label and "FILE" not in pair.label, pair.label
        measured = metrics(pair.name)
        covered = measured.get("modes_covered", measured.get("classes_covered"))
        total = measured.get("modes_total", 10 if "classes_covered" in measured else None)
        collapsed = covered is not None and total is not None and covered < total
        assert "(collapse)" not in pair.label
        if pair.name.endswith(catalogue.NO_ENTROPY_SUFFIX):
            said = pair.label.rsplit("without the entropy term", 1)[1]   # what the label says of the twin itself
            assert ("collapse" in said) == collapsed, pair.label
            if collapsed:
                assert f"collapses onto {covered} of {total}" in pair.label
        else:
            assert "collapses onto" not in pair.label, pair.label
