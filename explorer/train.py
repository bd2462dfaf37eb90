"""Train a generator/energy pair from the command line.

    python -m explorer.train --dataset ring --modes 8 --radius 2 --std 0.05 \\
        --entropy batchnorm --entropy-weight 1 --steps 5000 --seed 0 --out runs/ring
    python -m explorer.train --preset lesson --entropy-weight 0 --out runs/collapse
    python -m explorer.train --preset ring --compile     # the whole iteration compiled (opt-in)
    python -m explorer.train --list-presets

Writes OUT/config.json, OUT/model.safetensors and OUT/metrics.json (the evaluation of
explorer.evaluate on 2,500 samples, seed 0, the training time and the metric history).
"""
from __future__ import annotations

import json
import os
import sys

from tqdm import tqdm

from explorer.command_line import ArgumentParser, main_guard, set_threads
from explorer.config.options import OPTIONS, resolve
from explorer.config.presets import preset_lines, preset_options
from explorer.errors import UserInputError
from explorer.training.run import Run
from explorer.training.to_completion import train_to_completion


def number(value, kind) -> str:
    return f"{int(value):,}" if kind is int else f"{value:g}"


def help_text(option) -> str:
    """The option's help with what it takes: its choices or range, and its default."""
    if option.choices:
        takes = "one of: " + ", ".join(map(str, option.choices))
    elif option.kind in (int, float) and option.low is not None:
        takes = f"{number(option.low, option.kind)} to {number(option.high, option.kind)}"
    else:
        takes = ""
    if option.default is None:
        default = "none" if option.kind is str else "set by the dataset"
    elif option.kind is bool:
        default = str(option.default).lower()
    else:
        default = number(option.default, option.kind) if option.kind in (int, float) else option.default
    text = f"{option.help} ({takes + '; ' if takes else ''}default {default})"
    return text.replace("%", "%%")   # argparse %-formats help


def parse_args(argv=None):
    parser = ArgumentParser(prog="explorer.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", help="a named configuration (see --list-presets); later flags override it")
    parser.add_argument("--list-presets", action="store_true", help="print the presets, one a line, and exit")
    for option in OPTIONS:
        # every default is None here so that "not given" can be told apart; options.resolve fills them
        if option.kind is bool:   # `--compile` alone turns it on; `--compile false` too is understood
            parser.add_argument(option.flag, dest=option.name, nargs="?", const="true", default=None,
                                metavar="true|false", help=help_text(option))
            continue
        kind = str if option.kind is str else float  # ints are checked as whole numbers by resolve
        parser.add_argument(option.flag, dest=option.name, type=kind, default=None,
                            metavar=option.name.upper(), help=help_text(option))
    parser.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda (default auto)")
    parser.add_argument("--out", help="output folder (default runs/<preset or dataset>-seed<seed>)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_threads_flag()
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.list_presets:
        print("\n".join(preset_lines()))
        return
    set_threads(args.threads)
    given = {o.name: getattr(args, o.name) for o in OPTIONS}
    options = resolve(preset_options(args.preset), given)
    out = args.out or os.path.join("runs", f"{args.preset or options['dataset']}-seed{options['seed']}")
    run = Run(options, device=args.device)
    try:  # before training, so a bad folder does not cost a whole run
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise UserInputError(f"--out {out}: cannot create this folder ({e.strerror or e})") from None
    if not os.access(out, os.W_OK):
        raise UserInputError(f"--out {out}: the folder is not writable")

    with tqdm(total=options["steps"], desc=f"training on {run.device}", unit="it", file=sys.stderr,
              disable=args.quiet, mininterval=0.5) as bar:
        metrics, selected_step = train_to_completion(run, progress=bar.update)
    run.save(out, metrics, step=selected_step)
    with open(os.path.join(out, "metrics.json"), "w") as f:  # + the curves, for the app to redraw
        json.dump({**metrics, "history": run.history_record()}, f, indent=1)
    summary = {k: metrics[k] for k in ("modes_covered", "high_quality_fraction", "nll", "classes_covered",
                                       "class_kl_uniform", "train_seconds") if k in metrics}
    print(f"saved {out}: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in summary.items()), file=sys.stderr)


def run() -> None:
    """The console script (`energylab-train`) and `python -m explorer.train`."""
    main_guard(main, "explorer.train")


if __name__ == "__main__":
    run()
