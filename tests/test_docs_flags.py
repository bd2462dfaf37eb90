"""Every command-line flag the README and docs name is one the command they name accepts.

A flag is checked against the `--help` of the module its command runs (`python -m explorer.train
--floor-uniform false`); a flag named in prose alone (`--floor-margin m`) against every command the
docs run. Commands of other tools (py-spy, pip, pytest, git) are not ours to check.
"""
from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "assets" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(r"python (-m [a-z_][a-z0-9_.]*|app\.py)")
OTHER_TOOLS = ("py-spy", "pip ", "pytest", "python -m pytest", "git ", "apt-get", "chromium", "playwright", "uvicorn")


def commands() -> list[tuple[str, str, str]]:
    """(where, module or None, text) for each inline code span and each line of a code block."""
    found = []
    for path in DOCS:
        text = path.read_text()
        blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
        prose = re.sub(r"```[^\n]*\n.*?```", "", text, flags=re.S)
        pieces = [line for block in blocks for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", prose)
        for piece in pieces:
            piece = piece.strip()
            if not FLAG.search(piece) or piece.startswith(OTHER_TOOLS):
                continue
            command = COMMAND.search(piece)
            found.append((path.name, command.group(1) if command else None, piece))
    return found


@cache
def flags_of(command: str) -> frozenset[str]:
    """The flags `python <command> --help` lists (command: "-m explorer.train", or "app.py")."""
    done = subprocess.run([sys.executable, *command.split(), "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"python {command} --help failed: {done.stderr[-500:]}"
    return frozenset(FLAG.findall(done.stdout))


def test_docs_name_only_flags_their_commands_accept():
    found = commands()
    modules = sorted({module for _, module, _ in found if module})
    assert {"-m explorer.train", "-m explorer.study", "app.py"} <= set(modules)   # the scan sees the docs' commands
    with ThreadPoolExecutor(max_workers=4) as pool:   # each --help imports its module: a few seconds apiece
        accepted = dict(zip(modules, pool.map(flags_of, modules), strict=True))
    everywhere = frozenset().union(*accepted.values())
    wrong = []
    for where, module, piece in found:
        known = accepted[module] if module else everywhere
        wrong += [f"{where}: {flag} in `{piece}`" for flag in FLAG.findall(piece) if flag not in known]
    assert not wrong, "flags no command accepts:\n" + "\n".join(wrong)


def test_a_wrong_flag_is_caught():
    """The check itself: a flag train does not have is told apart from one it has."""
    train = flags_of("-m explorer.train")
    assert "--floor-uniform" in train and "--preset" in train
    assert "--no-floor-uniform" not in train
