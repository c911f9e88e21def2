"""Logging: console + ``<output_dir>/<name>.log``; in distributed runs only rank 0 writes.

Library modules log to ``logging.getLogger(__name__)`` (children of ``paddlevideo``, which has only a
``NullHandler`` until an entry point calls ``setup_runtime()`` / ``setup_logger()``).

Also formats PaddleVideo's training log lines (``format_batch_log`` / ``format_epoch_log``).
"""
import datetime
import logging
import os
import sys

_FORMAT = "[%(asctime)s] %(message)s"
_DATEFMT = "%m/%d %H:%M:%S"


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at emit time (tqdm, pytest and redirections swap it)."""

    def __init__(self):
        super().__init__(stream=sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def _rank() -> int:
    # Read from the launcher's environment so that the logger works before paddle is initialised.
    for var in ("PADDLE_TRAINER_ID", "RANK", "LOCAL_RANK"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def setup_logger(output_dir=None, name: str = "paddlevideo", level="INFO", log_file=None):
    """Configure ``name``'s logger: console on rank 0, plus a log file in ``output_dir`` on rank 0.

    Other ranks only show errors. Safe to call again (handlers are replaced, not duplicated).
    """
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = False
    rank = _rank()
    logger.setLevel(level if rank == 0 else logging.ERROR)
    formatter = logging.Formatter(_FORMAT, datefmt=_DATEFMT)
    console = _StdoutHandler()
    console.setFormatter(formatter)
    logger.addHandler(console)
    if output_dir and rank == 0:
        os.makedirs(output_dir, exist_ok=True)
        path = os.path.join(output_dir, log_file or f"{name}.log")
        file_handler = logging.FileHandler(path, mode="a", encoding="utf-8")
        file_handler.setFormatter(formatter)
        logger.addHandler(file_handler)
    return logger


def format_eta(seconds) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


def format_batch_log(epoch: int, total_epochs: int, mode: str, step: int, metrics: dict,
                     batch_cost: float, reader_cost: float, ips: float, eta_sec=None, memory: str = "") -> str:
    """PaddleVideo's per-iteration line (``utils/record.py`` ``log_batch``), colours aside.

    train: ``epoch:[  1/100] train step:20   loss: 5.99148 lr: 0.010000 top1: 0.00000 top5: 0.03125
    batch_cost: 0.54012 sec, reader_cost: 0.01021 sec, ips: 59.24411 instance/sec, eta: 1 day, 2:03:04``;
    val (no ``eta_sec``): ``... ips: 44.01234 instance/sec.``.
    ``metrics`` maps name -> value in display order; ``lr`` gets 6 decimals, the rest 5.
    ``memory`` (GPU builds): PaddleVideo's ``max_mem_reserved: X MB max_mem_allocated: Y MB``, appended after a comma.
    """
    values = " ".join(
        f"{k}: {v:.6f}" if k == "lr" else f"{k}: {v:.5f}" for k, v in metrics.items())
    line = (f"epoch:[{epoch:>3d}/{total_epochs:<3d}] {mode} step:{step:<4d} {values} "
            f"batch_cost: {batch_cost:.5f} sec, reader_cost: {reader_cost:.5f} sec, ips: {ips:.5f} instance/sec")
    line += f", eta: {format_eta(eta_sec)}" if eta_sec is not None else "."
    return line + (f", {memory}" if memory else "")


def format_epoch_log(epoch: int, mode: str, metrics: dict, avg_batch_cost: float,
                     avg_reader_cost: float, batch_cost_sum: float, avg_ips: float) -> str:
    """PaddleVideo's end-of-epoch line (``utils/record.py`` ``log_epoch``), colours aside.

    ``END epoch:1   train loss_avg: 1.91583  top1_avg: 0.10000 top5_avg: 1.00000 avg_batch_cost: 0.21984 sec,
    avg_reader_cost: 0.00041 sec, batch_cost_sum: 1.19337 sec, avg_ips: 8.37964 instance/sec.``
    A metric whose value is ``None`` prints as an empty field: PaddleVideo's train line keeps the
    empty slot of ``lr`` (no average), hence the two spaces after ``loss_avg``.
    """
    values = " ".join("" if v is None else f"{k}_avg: {v:.5f}" for k, v in metrics.items())
    return (f"END epoch:{epoch:<3d} {mode} {values} avg_batch_cost: {avg_batch_cost:.5f} sec, "
            f"avg_reader_cost: {avg_reader_cost:.5f} sec, batch_cost_sum: {batch_cost_sum:.5f} sec, "
            f"avg_ips: {avg_ips:.5f} instance/sec.")
