"""The Studies tab: what it shows of a shipped study (explorer/studies/shipped.py) and of the page's
own small study (explorer/page/small_study.py): a line about it, the per-seed dots of one metric
(Plotly JSON), the table with the published rows (Markdown), and the metrics to choose from.
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass

from explorer.figures import studies as figures
from explorer.page.small_study import RUNNING, STOPPED, SmallStudy
from explorer.studies import shipped
from explorer.studies.summary import summarise
from explorer.studies.worker import STATUS_DONE

SMALL_STUDY_INTRO = ("Press **Run a small study**: a few seeds of the settings on the right, each trained with the "
                     "entropy term as set and without it; each run's dot appears as it finishes.")


@dataclass(frozen=True)
class StudyShown:
    text: str                          # the line about the study (or the small study's status)
    figure: str | None = None          # the dots, Plotly JSON; None: the figure stays as it is
    table: str | None = None
    metrics: tuple = ()                # (label, name) to choose from
    metric: str | None = None          # the one shown


def _choices(names) -> tuple:
    return tuple((figures.label(m), m) for m in names)


def _pick(metric: str | None, names: list[str]) -> str | None:
    return metric if metric in names else (names[0] if names else None)


# ---------------------------------------------------------------------------- shipped studies
def suite_choices() -> list[tuple[str, str]]:
    """(label, name) of every shipped study: how many runs it holds, or that it has none yet."""
    choices = []
    for name in shipped.names():
        found = shipped.load(name)
        choices.append((f"{name} · {found.done} runs" if found.shipped else f"{name} · no results yet", name))
    return choices


def default_suite() -> str | None:
    """The first study with results (else the first suite)."""
    names = shipped.names()
    return next((n for n in names if shipped.load(n).shipped), names[0] if names else None)


def shipped_view(name: str, metric: str | None = None) -> StudyShown:
    """A shipped study: what it is and what made it, the dots of `metric` (else its first), the table."""
    found = shipped.load(name)
    study = found.study
    about = f"**{html.escape(name)}**: {html.escape(study.description)}"
    if not found.shipped:
        text = (f"{about}  \nNo shipped results for **{html.escape(name)}** yet ({len(study.tasks):,} runs "
                f"planned); this command makes them: `{found.command}`")
        chosen = _pick(metric, list(study.metrics))
        figure = figures.dots_figure(study, [], chosen, empty_note=f"no shipped results for {name} yet")
        return StudyShown(text, figure.to_json(), "", _choices(study.metrics), chosen)
    names = figures.metrics_shown(study, list(found.records))
    chosen = _pick(metric, names)
    machine = found.records[0].get("machine", {})
    made_on = f" on {machine.get('cpu', '?')} ({machine.get('cpu_capability', '?')}), torch {machine.get('torch', '?')}"
    text = (f"{about}  \n{found.done:,} of {len(study.tasks):,} runs done, seeds "
            f"{shipped.seed_text(study.seeds)}; made by `{found.command}`{html.escape(made_on)}")
    figure = figures.dots_figure(study, list(found.records), chosen) if chosen else None
    return StudyShown(text, figure.to_json() if figure else None, figures.table_markdown(study, found.summary),
                      _choices(names), chosen)


# ---------------------------------------------------------------------------- the page's small study
def duration(seconds: float) -> str:
    """A short duration for a status line: '40 s', '3 min'."""
    return f"{max(1, round(seconds))} s" if seconds < 90 else f"{round(seconds / 60)} min"


def progress(study: SmallStudy, now: float | None = None) -> str:
    """The small study's status line: runs done of all, the time left (or taken), each failure's reason."""
    now = time.monotonic() if now is None else now
    records = study.snapshot()
    finished, total = len(records), study.total
    if study.state == RUNNING:
        left = study.seconds_left(now)
        if left is None:
            elapsed = now - (study.started or now)
            text = (f"**running** · 0 of {total} runs done; starting the study's process and its first run "
                    f"({duration(elapsed)} so far)")
        elif finished == total:
            text = f"**running** · {finished} of {total} runs done; ending"
        else:
            text = f"**running** · {finished} of {total} runs done, ~{duration(left)} left"
    elif study.state == STOPPED and not study.error:
        text = f"**stopped** · {finished} of {total} runs done; Run starts a new study"
    else:
        taken = (study.ended or now) - (study.started or now)
        text = f"**{'stopped' if study.error else 'finished'}** · {finished} of {total} runs done in {duration(taken)}"
    for record in records:
        if record["status"] != STATUS_DONE:
            text += (f"  \n⚠️ seed {record['seed']} · {html.escape(record['method'])}: {record['status']}: "
                     f"{html.escape(str(record.get('reason', '')))}")
    if study.error:
        text += f"  \n⚠️ {html.escape(study.error)}"
    return text


def small_study_view(study: SmallStudy | None, note: str | None = None, problem: str | None = None,
                     figure: bool = True) -> StudyShown:
    """The page's small study: its status, the dots of its metric (with `figure`), its table."""
    if study is None:
        text = html.escape(note) if note else SMALL_STUDY_INTRO
        return StudyShown(text + (f"  \n⚠️ {html.escape(problem)}" if problem else ""))
    records = study.snapshot()
    names = figures.metrics_shown(study.study, records)
    chosen = _pick(study.metric, names) or "modes_covered"
    text = progress(study)
    if note:
        text += f"  \n{html.escape(note)}"
    if problem:
        text += f"  \n⚠️ {html.escape(problem)}"
    if not figure:
        return StudyShown(text, metrics=_choices(names), metric=chosen if names else None)
    dots = figures.dots_figure(study.study, records, chosen, height=360,
                               title=f"your study · {figures.label(chosen)}: each seed a dot; ◆ mean and 95 % interval",
                               empty_note="each run's dot appears here as it finishes")
    table = figures.table_markdown(study.study, summarise(study.study, records)) if records else ""
    return StudyShown(text, dots.to_json(), table, _choices(names), chosen if names else None)
