"""``<output_dir>/metrics.jsonl``: the figures of training, validation and test as JSON lines.

One object per line, appended (a resumed run continues the file). Every line has ``event``
(``step``, ``epoch`` or ``test``), ``mode`` (``train``, ``val`` or ``test``) and ``time`` (Unix
seconds); ``step`` and ``epoch`` lines add ``epoch`` (1-based), ``step`` (0-based; ``null`` for an
epoch), ``loss``, ``top1``, ``top5``, ``lr`` (``null`` in validation), ``batch_cost``, ``reader_cost``
and ``ips``; ``epoch`` lines add ``batch_cost_sum``. A ``test`` line holds the metric's results
(``avg_acc1``, ``avg_acc5``), ``weights`` and ``clips``. Log lines are for people; this file is for programs.

A run killed while appending can leave a torn last line (no final newline). ``read_metrics``, the one reader,
skips it; the next run that appends (a resumed one) cuts it off first and says so in one warning, so its
records never glue onto the fragment.
"""
import json
import logging
import math
import os
import time

from ..utils.errors import UserError

METRICS_FILE = "metrics.jsonl"
logger = logging.getLogger(__name__)
_NUMBERS = ("loss", "top1", "top5", "lr", "batch_cost", "reader_cost", "ips", "batch_cost_sum", "avg_acc1",
            "avg_acc5")


class MetricsFileError(UserError, ValueError):
    """A ``metrics.jsonl`` cannot be read or appended to; the message names the file (and line)."""


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
        if self.path is not None and os.path.lexists(self.path):
            _cut_torn_last_line(self.path)  # at the start of the run, before anything is appended

    def write(self, event: str, mode: str, **fields) -> dict:
        """Append one line ``{"event", "mode", "time", **fields}``; returns the record."""
        record = {"event": event, "mode": mode, "time": round(time.time(), 3)}
        record.update({name: _plain(value) for name, value in fields.items()})
        if self.path is not None:
            try:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
            except OSError as err:
                raise MetricsFileError(f"cannot append to {self.path}: {err.strerror or err}") from None
        return record


def _cut_torn_last_line(path: str):
    """Make ``path`` end with a newline: a last line cut short by a killed run is removed (with a warning);
    one that is a complete record missing only its newline gets the newline."""
    try:
        with open(path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(max(0, size - 1))
            if f.read(1) == b"\n":
                return
            start = size
            while start > 0:  # back to the previous newline, in blocks
                block = min(65536, start)
                f.seek(start - block)
                chunk = f.read(block)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    start = start - block + cut + 1
                    break
                start -= block
            f.seek(start)
            fragment = f.read()
            if _parse(fragment) is not None:
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
                return
            f.truncate(start)
    except IsADirectoryError:
        raise MetricsFileError(f"cannot append to {path}: it is a folder, expected the run's metrics file; "
                               "remove it or set another output_dir (-o output_dir=...)") from None
    except OSError as err:
        raise MetricsFileError(f"cannot append to {path}: {err.strerror or err}") from None
    logger.warning(f"{path}: removed a torn last line ({len(fragment)} bytes) left by an interrupted run")


def _parse(raw: bytes):
    """The JSON object in ``raw``, or None when it is not one (cut short, not UTF-8, not an object)."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _check_record(record, where: str) -> dict:
    """``record`` when it has the fields and types every reader relies on; else ``MetricsFileError``."""
    if not isinstance(record, dict):
        raise MetricsFileError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for name in ("event", "mode"):
        if not isinstance(record.get(name), str):
            raise MetricsFileError(f"{where}: '{name}' must be a string, got {record.get(name)!r}")
    epoch = record.get("epoch")
    if record["event"] in ("step", "epoch") and (isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1):
        raise MetricsFileError(f"{where}: 'epoch' must be an integer >= 1 in an '{record['event']}' record, "
                               f"got {epoch!r}")
    for name in _NUMBERS:
        value = record.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise MetricsFileError(f"{where}: '{name}' must be a number or null, got {value!r}")
    return record


def read_metrics(path: str, missing_ok: bool = False) -> list:
    """Every record of a ``metrics.jsonl`` file, in order: the one reader of the format.

    A torn last line (no final newline, not a complete record: a run killed while appending) is skipped.
    Anything else that is not a record with the documented fields and types raises ``MetricsFileError`` naming
    the file and line. ``missing_ok``: a file that does not exist yet gives ``[]``.
    """
    try:
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
    except FileNotFoundError:
        if missing_ok:
            return []
        raise MetricsFileError(f"metrics file not found: {path}") from None
    except IsADirectoryError:
        raise MetricsFileError(f"{path} is a folder, expected a metrics.jsonl file") from None
    except OSError as err:
        raise MetricsFileError(f"cannot read {path}: {err.strerror or err}") from None
    torn = lines.pop()  # b"" when the file ends with a newline
    records = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise MetricsFileError(f"{where}: not UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1})") \
                from None
        try:
            record = json.loads(text)
        except ValueError as err:
            raise MetricsFileError(f"{where}: not a JSON line ({getattr(err, 'msg', err)})") from None
        records.append(_check_record(record, where))
    if torn.strip() and _parse(torn) is not None:  # complete, only its newline missing
        records.append(_check_record(_parse(torn), f"{path}:{len(lines) + 1}"))
    return records


def step_fields(metrics: dict, batch_cost: float, reader_cost: float, ips: float) -> dict:
    """``loss, top1, top5, lr`` (``lr`` ``None`` when absent) plus the costs, for ``MetricsLog.write``."""
    fields = {name: metrics.get(name) for name in ("loss", "top1", "top5", "lr")}
    fields.update(batch_cost=batch_cost, reader_cost=reader_cost, ips=ips)
    return {name: _plain(value) for name, value in fields.items()}
