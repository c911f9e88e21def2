"""``<output_dir>/metrics.jsonl``: the figures of training, validation and test as JSON lines.

One object per line, appended (a resumed run continues the file). Every line has ``event``
(``step``, ``epoch`` or ``test``), ``mode`` (``train``, ``val`` or ``test``) and ``time`` (Unix
seconds); ``step`` and ``epoch`` lines add ``epoch`` (1-based), ``step`` (0-based; ``null`` for an
epoch), ``loss``, ``top1``, ``top5``, ``lr`` (``null`` in validation), ``batch_cost``, ``reader_cost``
and ``ips``; ``epoch`` lines add ``batch_cost_sum``. A ``test`` line holds the metric's results
(``avg_acc1``, ``avg_acc5``), ``weights`` and ``clips``. Log lines are for people; this file is for programs.
"""
import json
import math
import os
import time

METRICS_FILE = "metrics.jsonl"


def _plain(value):
    """JSON-safe scalar: tensors and numpy numbers become floats, NaN/inf become ``null``."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    value = float(value)
    return value if math.isfinite(value) else None


class MetricsLog:
    """Appends records to ``<output_dir>/metrics.jsonl``; does nothing when ``output_dir`` is ``None``
    (ranks other than 0)."""

    def __init__(self, output_dir):
        self.path = os.path.join(output_dir, METRICS_FILE) if output_dir else None

    def write(self, event: str, mode: str, **fields) -> dict:
        """Append one line ``{"event", "mode", "time", **fields}``; returns the record."""
        record = {"event": event, "mode": mode, "time": round(time.time(), 3)}
        record.update({name: _plain(value) for name, value in fields.items()})
        if self.path is not None:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        return record


def read_metrics(path: str) -> list:
    """Every record of a ``metrics.jsonl`` file, in order."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def step_fields(metrics: dict, batch_cost: float, reader_cost: float, ips: float) -> dict:
    """``loss, top1, top5, lr`` (``lr`` ``None`` when absent) plus the costs, for ``MetricsLog.write``."""
    fields = {name: metrics.get(name) for name in ("loss", "top1", "top5", "lr")}
    fields.update(batch_cost=batch_cost, reader_cost=reader_cost, ips=ips)
    return {name: _plain(value) for name, value in fields.items()}
