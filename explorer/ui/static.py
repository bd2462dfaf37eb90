"""The page's JavaScript, CSS and HTML: files in explorer/ui/static/, read when the page is built.

The scripts use a few constants whose values live in Python (the canvas box, the figures' ids,
Gradio's query keys); they are bound here, as JSON, so that each fact is kept in one place.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

STATIC = Path(__file__).with_name("static")


@cache
def text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def on_load_js(name: str, **constants) -> str:
    """A component's js_on_load body (run as a function of element, props, watch, ...), after
    `const NAME = value;` for each constant."""
    return "".join(f"const {key} = {json.dumps(value)};\n" for key, value in constants.items()) + text(name)


def event_js(name: str, **constants) -> str:
    """An event's `js` function (the file is a function expression), with the constants bound around it."""
    source = text(name).strip()
    if not constants:
        return source
    names, values = ", ".join(constants), ", ".join(json.dumps(value) for value in constants.values())
    return f"(({names}) => (\n{source}\n))({values})"


def html(name: str, **values) -> str:
    """An HTML template with each {{NAME}} replaced by its value."""
    page = text(name)
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", str(value))
    return page
