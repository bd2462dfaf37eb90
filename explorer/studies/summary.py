"""A study's runs -> per configuration and method: mean, standard error, 95 % interval, count.

The interval is Student's t over seeds: mean +- t(0.975, n-1) * sd / sqrt(n); with one run there
is no spread to speak of, and the interval is left empty rather than made up.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from explorer.studies.published import PUBLISHED
from explorer.studies.spec import Study
from explorer.studies.worker import STATUS_DONE

LABELS = {"modes_covered": "modes", "high_quality_fraction": "high quality %", "reverse_kl": "reverse KL",
          "nll": "NLL", "nll_true": "true NLL", "nll_gap": "NLL gap", "classes_covered": "classes",
          "class_kl_uniform": "class KL", "train_seconds": "seconds", "nll_gmm": "GMM's NLL",
          "nll_gap_gmm": "NLL gap to a GMM", "kl_true_to_model": "KL(p_data ‖ p_E)",
          "weight_error_energy": "weight error of p_E",
          "weight_error_generator": "weight error of G", "modes_covered_generator": "modes of G(z)",
          "high_quality_fraction_generator": "G(z)'s high quality %"}
PERCENT = {"high_quality_fraction", "high_quality_fraction_generator"}   # shown in %, as the published tables are
COUNTS = {"modes_covered", "modes_covered_generator", "classes_covered"}   # shown to one decimal, as the modes are


def latest_by_key(records: list[dict]) -> dict[str, dict]:
    """One record a run: the last one written (a retried failure replaces the failure)."""
    return {r["key"]: r for r in records}


def describe(values: list[float]) -> dict:
    """mean, sd, se, the 95 % t-interval and n of finite values."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = len(x)
    if n == 0:
        return {"n": 0}
    out = {"n": n, "mean": float(x.mean()), "min": float(x.min()), "max": float(x.max())}
    if n > 1:
        sd = float(x.std(ddof=1))
        se = sd / math.sqrt(n)
        half = float(stats.t.ppf(0.975, n - 1)) * se
        out.update(sd=sd, se=se, ci95=[out["mean"] - half, out["mean"] + half])
    return out


def summarise(study: Study, records: list[dict]) -> dict:
    """{"groups": [{configuration, method, runs, done, failed, reasons, metrics: {name: describe}}]}."""
    by_key = latest_by_key(records)
    groups = []
    for configuration in study.configurations:
        for method in study.methods:
            tasks = [t for t in study.tasks if t.configuration == configuration and t.method == method]
            found = [by_key[t.key] for t in tasks if t.key in by_key]
            done = [r for r in found if r["status"] == STATUS_DONE]
            names = sorted({k for r in done for k, v in r["metrics"].items() if isinstance(v, (int, float))
                            and not isinstance(v, bool)})
            groups.append({
                "configuration": configuration, "method": method, "runs": len(tasks), "finished": len(found),
                "done": len(done), "failed": len(found) - len(done),
                "reasons": sorted({r.get("reason", "") for r in found if r["status"] != STATUS_DONE}),
                "seeds": [r["seed"] for r in done],
                "metrics": {name: describe([r["metrics"].get(name) for r in done]) for name in names},
            })
    return {"study": study.name, "description": study.description, "groups": groups}


def _cell(stat: dict | None, name: str) -> str:
    if not stat or not stat.get("n"):
        return "–"
    scale = 100.0 if name in PERCENT else 1.0
    digits = 1 if name in PERCENT or name in COUNTS else 3
    text = f"{stat['mean'] * scale:.{digits}f}"
    if "se" in stat:
        text += f" ± {stat['se'] * scale:.{digits}f}"
    return text


def markdown(study: Study, summary: dict) -> str:
    """The table: one row per configuration and method, mean ± standard error over seeds, with
    the published rows of each configuration beside it (modes / high quality % / reverse KL)."""
    shown = [m for m in study.metrics if any(m in g["metrics"] for g in summary["groups"])]
    lines = [f"# Study `{study.name}`", "", study.description, "",
             "Mean ± standard error over seeds (n = runs finished); summary.json has the 95 % intervals.", "",
             "| configuration | method | n | " + " | ".join(LABELS.get(m, m) for m in shown) + " |",
             "|---|---|---|" + "---|" * len(shown)]
    for group in summary["groups"]:
        failed = f" ({group['failed']} failed)" if group["failed"] else ""
        planned = f" of {group['runs']}" if group["done"] != group["runs"] else ""   # a study still running
        lines.append(f"| {group['configuration']} | {group['method']} | {group['done']}{planned}{failed} | "
                     + " | ".join(_cell(group["metrics"].get(m), m) for m in shown) + " |")
    for configuration, tables in study.published.items():
        for table in tables:
            citation, total, rows = PUBLISHED[table]
            lines += ["", f"Published beside `{configuration}` ({total} modes): {citation}.", "",
                      "| method | modes | high quality % | reverse KL |", "|---|---|---|---|"]
            lines += [f"| {name} | {modes:g} | {quality:g} | {'–' if kl is None else f'{kl:g}'} |"
                      for name, modes, quality, kl in rows]
    if study.published:
        lines += ["", "## Side by side", "", side_by_side(study, summary).rstrip("\n")]
    reasons = sorted({reason for g in summary["groups"] for reason in g["reasons"] if reason})
    if reasons:
        lines += ["", "Runs that failed or diverged, and why:", ""] + [f"- {r}" for r in reasons]
    return "\n".join(lines) + "\n"


SIDE_BY_SIDE = ("modes_covered", "high_quality_fraction", "reverse_kl")


def side_by_side(study: Study, summary: dict) -> str:
    """One table for the study's configurations that have published rows: each of our methods
    (mean ± standard error over seeds) above each published method, per configuration its modes,
    high-quality % and reverse KL. A published row is cited by its paper; a cell it lacks is '–'."""
    configurations = list(study.published)
    header = "| method | source | " + " | ".join(
        f"{c} {LABELS[m]}" for c in configurations for m in SIDE_BY_SIDE) + " |"
    lines = [header, "|---|---|" + "---|" * (len(configurations) * len(SIDE_BY_SIDE))]
    groups = {(g["configuration"], g["method"]): g for g in summary["groups"]}
    for method in study.methods:
        cells = []
        for configuration in configurations:
            group = groups.get((configuration, method))
            done = group["done"] if group else 0
            planned = group["runs"] if group else 0
            for name in SIDE_BY_SIDE:
                cell = _cell(group["metrics"].get(name) if group else None, name)
                cells.append(cell if done == planned or cell == "–" else f"{cell} ({done} of {planned})")
        lines.append(f"| {method} | EnergyLab, {len(study.seeds)} seeds | " + " | ".join(cells) + " |")
    sources: dict[str, dict[str, dict[str, tuple]]] = {}   # citation -> method -> configuration -> row
    for configuration, tables in study.published.items():
        for table in tables:
            citation, _, rows = PUBLISHED[table]
            for name, *values in rows:
                sources.setdefault(citation, {}).setdefault(name, {})[configuration] = values
    for citation, methods in sources.items():
        for name, by_configuration in methods.items():
            cells = []
            for configuration in configurations:
                values = by_configuration.get(configuration, (None, None, None))
                cells += ["–" if v is None else f"{v:g}" for v in values]
            lines.append(f"| {name} | {citation.split(',')[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
