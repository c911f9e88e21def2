"""Plot a training run as a PNG of loss, top1 and learning rate per epoch.

    python tools/plot_log.py output/TSN/metrics.jsonl                   # writes output/TSN/metrics.png
    python tools/plot_log.py output/TSN/paddlevideo.log -o curves.png   # uses metrics.jsonl beside it

Reads ``metrics.jsonl`` (the ``epoch`` records of ``train`` and ``val``) when given it or when it lies
beside the given log; otherwise parses a PaddleVideo log: the ``END epoch:N   train|val ...``
summaries and the ``lr`` of each epoch's per-iteration lines.
Needs matplotlib (``pip install matplotlib`` or ``pip install .[plot]``).
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from paddlevideo.tasks import metrics_log  # noqa: E402  (Paddle-free: the one metrics.jsonl reader)
from paddlevideo.utils.errors import UserError, run_cli  # noqa: E402
from paddlevideo.utils.optional import import_optional  # noqa: E402


_END = re.compile(r"END epoch:\s*(\d+)\s+(train|val)\s+(.*)")
_BATCH = re.compile(r"epoch:\[\s*(\d+)/\s*\d+\s*\]\s+train step:\s*\d+\s+(.*)")
_PAIR = re.compile(r"([A-Za-z0-9_]+): ([-+0-9.eE]+)")


METRICS_FILE = metrics_log.METRICS_FILE


class LogFormatError(UserError, ValueError):
    """The file holds no PaddleVideo training log lines or metrics records."""


class OutputError(UserError, OSError):
    """The PNG cannot be written where it was asked for."""


class MissingPackageError(UserError, ImportError):
    """matplotlib is not installed."""


def _number(text, where: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise LogFormatError(f"{where}: {text!r} is not a number") from None


def parse_metrics(path: str) -> dict:
    """The same curves as ``parse_log`` from the ``epoch`` records of a ``metrics.jsonl``."""
    curves = {"train": {}, "val": {}, "lr": {}}
    try:
        records = metrics_log.read_metrics(path)  # checked: objects with the documented fields and types
    except metrics_log.MetricsFileError as err:
        raise LogFormatError(str(err)) from None
    for record in records:
        if record["event"] != "epoch" or record["mode"] not in ("train", "val"):
            continue
        epoch = record["epoch"]
        curves[record["mode"]][epoch] = {k: float(record[k]) for k in ("loss", "top1", "top5")
                                         if record.get(k) is not None}
        if record["mode"] == "train" and record.get("lr") is not None:
            curves["lr"][epoch] = float(record["lr"])
    if not curves["train"]:
        raise LogFormatError(f"{path} has no train epoch records: is it a main.py metrics.jsonl?")
    return curves


def load_curves(path: str) -> dict:
    """Curves of ``path``: a ``metrics.jsonl``, a log with a ``metrics.jsonl`` beside it, or a bare log."""
    beside = os.path.join(os.path.dirname(os.path.abspath(path)), METRICS_FILE)
    if path.endswith(".jsonl"):
        return parse_metrics(path)
    if os.path.lexists(beside):  # a folder or a broken file there is an error, not a reason to ignore it
        return parse_metrics(beside)
    return parse_log(path)


def parse_log(path: str) -> dict:
    """``{"train": {epoch: {metric: value}}, "val": {...}, "lr": {epoch: last lr}}`` from a training log."""
    curves = {"train": {}, "val": {}, "lr": {}}
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as err:
        raise LogFormatError(f"cannot read {path}: {err.strerror or err}") from None
    for number, line in enumerate(lines, 1):
        where = f"{path}:{number}"
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)  # strip terminal colours if any
        end = _END.search(line)
        if end:
            epoch, mode, rest = int(end.group(1)), end.group(2), end.group(3)
            values = {k[:-4]: _number(v, where) for k, v in _PAIR.findall(rest) if k.endswith("_avg")}
            curves[mode][epoch] = values
            continue
        batch = _BATCH.search(line)
        if batch:
            values = dict(_PAIR.findall(batch.group(2)))
            if "lr" in values:
                curves["lr"][int(batch.group(1))] = _number(values["lr"], where)
    if not curves["train"]:
        raise LogFormatError(f"{path} has no 'END epoch:N   train ...' lines: is it a main.py training log?")
    return curves


def plot_curves(curves: dict, out_png: str, title: str = "") -> str:
    """Write the loss / top1 / lr figure to ``out_png``; returns the path."""
    matplotlib = import_optional("matplotlib", "matplotlib", "plot_log.py", error=MissingPackageError,
                                 hint=" (or pip install .[plot])")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
    try:
        os.makedirs(os.path.dirname(os.path.abspath(out_png)), exist_ok=True)
        fig.savefig(out_png, dpi=100)
    except OSError as err:
        raise OutputError(f"cannot write {out_png}: {err.strerror or err}") from None
    finally:
        plt.close(fig)
    return out_png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", help="metrics.jsonl or training log written by main.py (in output/<model_name>/)")
    parser.add_argument("-o", "--output", help="PNG to write (default: the input's name with .png)")
    args = parser.parse_args(argv)
    return run_cli("plot_log.py", lambda: _plot(args))


def _plot(args) -> int:
    if os.path.isdir(args.log):
        raise LogFormatError(f"{args.log} is a folder, expected a metrics.jsonl or a training log file")
    if not os.path.isfile(args.log):
        raise LogFormatError(f"log file not found: {args.log}")
    curves = load_curves(args.log)
    out = args.output or os.path.splitext(args.log)[0] + ".png"
    plot_curves(curves, out, title=os.path.basename(os.path.dirname(os.path.abspath(args.log))))
    last = max(curves["train"])
    summary = ", ".join(f"{k} {v:.4f}" for k, v in curves["train"][last].items())
    print(f"wrote {out} ({len(curves['train'])} epochs; last train epoch: {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
