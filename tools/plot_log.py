"""Plot a training log (PaddleVideo's log lines) as a PNG of loss, top1 and learning rate per epoch.

    python tools/plot_log.py output/TSN/paddlevideo.log                 # writes output/TSN/paddlevideo.png
    python tools/plot_log.py output/TSN/paddlevideo.log -o curves.png

Reads the ``END epoch:N   train|val ...`` summaries and the ``lr`` of each epoch's per-iteration lines.
Needs matplotlib (``pip install matplotlib`` or ``pip install .[plot]``).
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from paddlevideo.utils.errors import UserError, run_cli  # noqa: E402

_END = re.compile(r"END epoch:\s*(\d+)\s+(train|val)\s+(.*)")
_BATCH = re.compile(r"epoch:\[\s*(\d+)/\s*\d+\s*\]\s+train step:\s*\d+\s+(.*)")
_PAIR = re.compile(r"([A-Za-z0-9_]+): ([-+0-9.eE]+)")


class LogFormatError(UserError, ValueError):
    """The file holds no PaddleVideo training log lines."""


def parse_log(path: str) -> dict:
    """``{"train": {epoch: {metric: value}}, "val": {...}, "lr": {epoch: last lr}}`` from a training log."""
    curves = {"train": {}, "val": {}, "lr": {}}
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = re.sub(r"\x1b\[[0-9;]*m", "", line)  # strip terminal colours if any
            end = _END.search(line)
            if end:
                epoch, mode, rest = int(end.group(1)), end.group(2), end.group(3)
                values = {k[:-4]: float(v) for k, v in _PAIR.findall(rest) if k.endswith("_avg")}
                curves[mode][epoch] = values
                continue
            batch = _BATCH.search(line)
            if batch:
                values = dict(_PAIR.findall(batch.group(2)))
                if "lr" in values:
                    curves["lr"][int(batch.group(1))] = float(values["lr"])
    if not curves["train"]:
        raise LogFormatError(f"{path} has no 'END epoch:N   train ...' lines: is it a main.py training log?")
    return curves


def plot_curves(curves: dict, out_png: str, title: str = "") -> str:
    """Write the loss / top1 / lr figure to ``out_png``; returns the path."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("plot_log.py needs matplotlib: pip install matplotlib") from None
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, metric in zip(axes[:2], ("loss", "top1")):
        for mode, style in (("train", "o-"), ("val", "s--")):
            points = sorted((e, v[metric]) for e, v in curves[mode].items() if metric in v)
            if points:
                ax.plot(*zip(*points), style, label=mode)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if curves["lr"]:
        axes[2].plot(*zip(*sorted(curves["lr"].items())), "o-")
        axes[2].set_yscale("log")
    axes[2].set_title("learning rate")
    axes[2].set_xlabel("epoch")
    axes[2].grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out_png)), exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", help="training log written by main.py (output/<model_name>/paddlevideo.log)")
    parser.add_argument("-o", "--output", help="PNG to write (default: the log's name with .png)")
    args = parser.parse_args(argv)
    return run_cli("plot_log.py", lambda: _plot(args))


def _plot(args) -> int:
    if not os.path.isfile(args.log):
        raise LogFormatError(f"log file not found: {args.log}")
    curves = parse_log(args.log)
    out = args.output or os.path.splitext(args.log)[0] + ".png"
    plot_curves(curves, out, title=os.path.basename(os.path.dirname(os.path.abspath(args.log))))
    last = max(curves["train"])
    summary = ", ".join(f"{k} {v:.4f}" for k, v in curves["train"][last].items())
    print(f"wrote {out} ({len(curves['train'])} epochs; last train epoch: {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
