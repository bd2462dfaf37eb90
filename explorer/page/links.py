"""An experiment as a link: the page's state <-> the query string of its URL.

What travels: every control value (explorer/controls.CONTROL_NAMES, the seed included), the
landscape view and its layers, the pretrained pair when one is shown, the open tab, the lesson
step and classroom mode, e.g.

    ?dataset=grid&modes=25&spacing=2.0&std=0.05&...&seed=3&landscape=log+density&layers=data,samples&tab=landscape

A link carries every control, not only those that differ from the defaults, so it opens the same
experiment even after a default changes. Training is deterministic from the seed, so the same
link trains the same curves.

`decode` never raises: a link is input from anyone. Each bad or unknown value is dropped with a
message saying so, the option bounds are those of explorer/config/options.py (`resolve`), and what is
left falls back to the defaults. What does not travel: a points file (it stays on the machine it
was uploaded to; only the pretrained `points` pair's own file can be reopened).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from urllib.parse import parse_qsl, urlencode

from explorer.config.options import FALSE_WORDS, OPTION_BY_NAME, TRUE_WORDS, check_value, resolve
from explorer.errors import UserInputError
from explorer.page.controls import CONTROL_NAMES, DATA_PARAMETERS, DATASET_PARAMETERS, in_page_words
from explorer.page.lesson import LAYERS, STEPS, TABS, VIEWS

# query keys the page itself uses (Gradio: ?view=api, ?__theme=dark, ...): left alone, never ours
FOREIGN_KEYS = ("view", "ui", "deep_link", "write_token", "lang")
MAX_PARAMETERS = 64      # a longer query is not one of ours: the rest is ignored
MAX_VALUE_LENGTH = 100   # characters per value (the longest of ours is a pair's name)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")  # plain decimals: no nan, inf, 0x, 1_000
_FALSE = FALSE_WORDS + ("",)   # and an empty value: "?classroom="


@dataclass(frozen=True)
class Shared:
    """What a link says; None everywhere means "not in the link" (the page keeps its default)."""
    options: dict | None = None            # checked options (explorer/options.resolve), or None
    view: str | None = None                # one of lesson.VIEWS
    layers: tuple[str, ...] | None = None  # shown layers, in lesson.LAYERS order
    pair: str | None = None                # a pretrained pair of the catalogue
    tab: str | None = None                 # one of the page's tabs (lesson.TABS by default)
    lesson: int | None = None              # lesson step 1..len(STEPS); 0 = no lesson
    classroom: bool | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def encode(shared: Shared) -> str:
    """The query string (without '?') of `shared`; fields that are None are left out."""
    items: list[tuple[str, str]] = []
    if shared.options is not None:
        dataset = shared.options["dataset"]
        for name in CONTROL_NAMES:
            value = shared.options.get(name)
            if value is None or (name in DATA_PARAMETERS and name not in DATASET_PARAMETERS.get(dataset, ())):
                continue
            items.append((name, _text(value)))
    if shared.view is not None:
        items.append(("landscape", shared.view))
    if shared.layers is not None:
        items.append(("layers", ",".join(layer for layer in LAYERS if layer in shared.layers)))
    for name in ("pair", "tab"):
        if getattr(shared, name) is not None:
            items.append((name, getattr(shared, name)))
    if shared.lesson is not None:
        items.append(("lesson", str(shared.lesson)))
    if shared.classroom is not None:
        items.append(("classroom", "1" if shared.classroom else "0"))
    return urlencode(items)


def _text(value) -> str:
    # repr keeps every float exactly (0.1 -> '0.1', 1e-05 -> '1e-05'), so a link round-trips
    return repr(value) if isinstance(value, float) else str(value)


def decode(query: str | Mapping | Iterable, pairs: Iterable[str] | None = None,
           tabs: Iterable[str] = TABS) -> tuple[Shared, list[str]]:
    """(what the link says, the problems found in it). Never raises on any input.

    `query`: a query string ('a=1&b=2', with or without '?'), a mapping, or (key, value) pairs.
    `pairs`: the names of the pretrained pairs (default: the catalogue's)."""
    if pairs is None:
        from explorer.pairs.catalogue import pretrained_pairs
        pairs = [p.name for p in pretrained_pairs()]
    pairs, tabs = set(pairs), tuple(tabs)
    problems: list[str] = []
    items = _items(query, problems)
    given: dict = {}
    found: dict = {}
    for key, value in items:
        if key.startswith("__") or key in FOREIGN_KEYS:
            continue
        if len(value) > MAX_VALUE_LENGTH:
            problems.append(f"{_label(key)}: a value of {len(value):,} characters is too long (ignored)")
            continue
        try:
            if key in CONTROL_NAMES:
                given[key] = _option(key, value)
            elif key == "landscape":
                found["view"] = _choice(key, value.replace("-", " ").replace("_", " "), VIEWS)
            elif key == "layers":
                found["layers"] = _layers(value)
            elif key == "pair":
                if value not in pairs:
                    raise UserInputError(f"no pretrained pair is named {_short(value)!r}")
                found["pair"] = value
            elif key == "tab":
                found["tab"] = _choice(key, value, tabs)
            elif key == "lesson":
                found["lesson"] = _whole(key, value, 0, len(STEPS))
            elif key == "classroom":
                found["classroom"] = _flag(key, value)
            else:
                problems.append(f"unknown setting {_short(key)!r} (ignored)")
        except UserInputError as e:
            problems.append(f"{e} (ignored)")
    options = _options(given, problems, with_pair="pair" in found) if given else None
    return Shared(options=options, **found), problems


def _items(query, problems: list[str]) -> list[tuple[str, str]]:
    try:
        if isinstance(query, str):
            items = parse_qsl(query.removeprefix("?"), keep_blank_values=True, max_num_fields=None)
        elif isinstance(query, Mapping):
            items = list(query.items())
        else:
            items = list(query)
        items = [(str(k), str(v)) for k, v in items]
    except (TypeError, ValueError):
        problems.append("the link's settings could not be read; showing the defaults")
        return []
    if len(items) > MAX_PARAMETERS:
        problems.append(f"the link has {len(items):,} settings; only the first {MAX_PARAMETERS} were read")
        items = items[:MAX_PARAMETERS]
    return items


def _label(name: str) -> str:
    return _short(name).replace("_", " ")


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:30] + "…"


def _option(name: str, value: str):
    option = OPTION_BY_NAME[name]
    if option.kind is not str:
        # str.strip's whitespace is wider than int()'s and float()'s (U+001F, say): parse what was matched
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            raise UserInputError(f"{_label(name)} must be a number, got {_short(value)!r}")
        whole = option.kind is int and re.fullmatch(r"[+-]?\d{1,18}", text)
        value = int(text) if whole else float(text)
    try:
        return check_value(name, value)
    except UserInputError as e:
        raise UserInputError(in_page_words(str(e))) from None


def _choice(name: str, value: str, choices) -> str:
    if value not in choices:
        raise UserInputError(f"{name} must be one of {', '.join(choices)}; got {_short(value)!r}")
    return value


def _layers(value: str) -> tuple[str, ...]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise UserInputError(f"layers must be among {', '.join(LAYERS)}; got {_short(unknown[0])!r}")
    return tuple(layer for layer in LAYERS if layer in names)


def _whole(name: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,4}", value.strip()) or not low <= int(value) <= high:
        raise UserInputError(f"{name} must be a whole number from {low} to {high}; got {_short(value)!r}")
    return int(value)


def _flag(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text not in TRUE_WORDS + _FALSE:
        raise UserInputError(f"{name} must be 1 or 0; got {_short(value)!r}")
    return text in TRUE_WORDS


def _options(given: dict, problems: list[str], with_pair: bool) -> dict | None:
    """Checked options from the link's control values; what does not fit is dropped, with a message."""
    dataset = given.get("dataset", "ring")
    if dataset == "points":   # the pair (the pretrained points pair) brings its own points and settings
        if not with_pair:
            problems.append("a points dataset cannot travel in a link: its file stays where it was uploaded "
                            "(showing the defaults)")
        return None
    for name in DATA_PARAMETERS:
        if name in given and name not in DATASET_PARAMETERS.get(dataset, ()):
            problems.append(f"{name} does not apply to the {dataset} dataset (ignored)")
            del given[name]
    if given.get("energy_hidden") == 0:   # 0 in the page: as wide as the generator
        del given["energy_hidden"]
    try:
        return resolve(None, given)
    except UserInputError as e:   # values fine alone but not together (a grid of 10 modes)
        problems.append(f"{in_page_words(str(e))} (the dataset's own values are used)")
    try:
        return resolve(None, {k: v for k, v in given.items() if k not in DATA_PARAMETERS})
    except UserInputError as e:  # not expected: every value was checked alone; still, never raise
        problems.append(f"{in_page_words(str(e))} (showing the defaults)")
        return resolve(None, {})


def summary(shared: Shared) -> str:
    """A few words for the status line: what the link opened."""
    parts = []
    if shared.lesson:
        parts.append(f"lesson step {shared.lesson}")
    if shared.pair:
        parts.append(f"pair {shared.pair}")
    if shared.options:
        o = shared.options
        method = "the paper's method" if o["method"] == "paper" else "EnergyLab's method"
        parts.append(f"{o['dataset']}, seed {o['seed']}, entropy {o['entropy']} weight {o['entropy_weight']:g}, "
                     f"{method}")
    if shared.view:
        parts.append(f"view {shared.view}")
    if shared.tab and shared.tab != "landscape":
        parts.append(f"tab {shared.tab}")
    if shared.classroom:
        parts.append("classroom")
    return "opened a link" + (": " + "; ".join(parts) if parts else "")
