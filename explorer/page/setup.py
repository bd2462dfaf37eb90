"""How a lesson step or a shared link sets the page up, and which wins when several say something.

A link's own pair or options come first, else its lesson step's pair or run, else the default
pair; its view, layers and tab likewise (the link's, else the lesson step's, else the defaults).
A plain address (no query) opens the default pair, as before links existed. The story itself is
explorer/page/lesson.py, the link's format explorer/page/links.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from explorer.config.options import Experiment, resolve
from explorer.page import controls, lesson, links
from explorer.page.pairs import show_pretrained
from explorer.page.points import points_for
from explorer.page.state import PageState
from explorer.pairs import catalogue

DEFAULT_PAIR = "ring"
DEFAULT_LAYERS = ("data", "samples")
LESSON_INTRO = (f"{len(lesson.STEPS)} short steps, from what an energy landscape is to training a pair yourself. "
                "Each step sets up the page (pair, view, tab) and says what to look at. Press **Next** to start.")


@dataclass(frozen=True)
class PageSetup:
    """What the page shows: a pretrained pair (its options in the controls, unless `options`
    override them) or a new run of `options` at step 0; the view, its layers, the tab, the lesson
    step (None: left as it is; 0: before the lesson) and classroom mode (None: left as it is)."""
    pair: str | None
    options: Experiment | None
    view: str
    layers: tuple[str, ...]
    tab: str
    lesson: int | None
    classroom: bool | None
    note: str
    problem: str | None = None

    @property
    def in_lesson(self) -> bool:
        return self.lesson is not None and self.lesson > 0


def lesson_setup(number: int) -> PageSetup:
    """Lesson step `number` (1..len(STEPS)) as the page shows it."""
    number = int(number)
    step = lesson.step(number)
    setup = step.setup
    return PageSetup(pair=setup.pair, options=setup.resolved_options(), view=setup.view, layers=setup.layers,
                     tab=setup.tab, lesson=number, classroom=None,
                     note=f"lesson step {number} of {len(lesson.STEPS)}: {step.title}")


def lesson_move(current, change: int) -> tuple[int | None, str | None]:
    """Next (+1) or Prev (-1) from step `current`: (the step to open, None), or (None, why not)."""
    current = current if isinstance(current, int) else 0
    number = current + change
    if not 1 <= number <= len(lesson.STEPS):   # never re-run a step's set-up: it would end a live run
        return None, ("that was the last step" if change > 0 else "this is the first step")
    return number, None


def link_setup(query, tabs=lesson.TABS) -> PageSetup | None:
    """What a link says (its query string, or its parameters); None for a plain address. Bad or
    hostile values fall back to the defaults, each named in the setup's problem."""
    shared, problems = links.decode(query if query is not None else "", tabs=tabs)
    problem = ("the link had problems: " + "; ".join(problems)) if problems else None
    if shared.empty and not problems:
        return None
    step = lesson.step(shared.lesson).setup if shared.lesson else None
    pair, options = shared.pair, shared.options
    if pair is None and options is None:   # the lesson step's own pair or run, else the default pair
        has_default = any(p.name == DEFAULT_PAIR for p in catalogue.pretrained_pairs())
        pair, options = ((step.pair, step.resolved_options()) if step else
                         (DEFAULT_PAIR, None) if has_default else (None, resolve(None, {})))
    layers = shared.layers if shared.layers is not None else (step.layers if step else DEFAULT_LAYERS)
    return PageSetup(pair=pair, options=options, view=shared.view or (step.view if step else "energy"),
                     layers=layers, tab=shared.tab or (step.tab if step else "landscape"), lesson=shared.lesson,
                     classroom=shared.classroom, note=links.summary(shared), problem=problem)


def apply(state: PageState, setup: PageSetup) -> Experiment | None:
    """Set the page up: the view and layers (before the frame is made), then the pair or the new
    run. Returns the options the controls are to show (None: leave them as they are)."""
    state.choose_view(setup.view, setup.layers)
    shown = None
    if setup.pair:
        shown = show_pretrained(state, setup.pair).options
        if state.aside is not None and setup.options is None:   # the controls stay the waiting run's
            shown = None
    if setup.options is not None:
        # as the controls hold them (a preset's lr_decay, say, has no control): what Train would run
        points_path = state.points.path if state.points is not None else None
        options = controls.options_from_controls(controls.controls_from_options(setup.options), points_path)
        if not setup.pair:
            state.end_aside()
            state.live.new_run(options, dataset=points_for(options, state.points))
        shown = options   # over a pair: the controls say what Train will run next
    return shown


def lesson_text(number: int) -> str:
    """The lesson panel's text at step `number` (0: before the lesson, its introduction)."""
    return lesson.step(number).text if number > 0 else LESSON_INTRO
