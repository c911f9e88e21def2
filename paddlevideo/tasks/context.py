"""``RunContext``: what a training, validation or test run knows about itself, built once per run.

Who this process is (rank, world size, device), where the run writes (output folder, model name, metrics
file) and how it steps (epochs, log interval, ``--max_iters``, AMP, the stop flag, the profiler). The loops
read it instead of re-deriving any of it; rank and world size come from ``environment.init_distributed``
and nowhere else. Log lines go through the module loggers (children of ``paddlevideo``, which the entry
point configured), so the context holds no logger of its own.
"""
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from ..solver.lr import lr_steps_per_iteration
from ..utils.config_check import setting
from ..utils.stop_signals import GracefulStop
from .metrics_log import MetricsLog
from .profiler import StepProfiler


def output_dir_of(cfg) -> str:
    """``cfg.output_dir`` or PaddleVideo's default ``./output/<model_name>``."""
    return cfg.get("output_dir") or os.path.join("output", cfg.model_name)


class StopAt(Exception):
    """A stop signal reached a loop at a safe point: after ``step`` of 1-based ``epoch`` (None: at its end), in
    training or, with ``validating``, in that epoch's validation. ``train_model`` turns it into the stop line."""

    def __init__(self, epoch, step=None, validating=False):
        super().__init__(epoch, step, validating)
        self.epoch, self.step, self.validating = epoch, step, validating

    def where(self) -> str:
        """``epoch 2 step 5``, ``epoch 2 (end)`` or ``validation of epoch 2 step 1``."""
        if self.validating:
            return f"validation of epoch {self.epoch} step {self.step}"
        return f"epoch {self.epoch}" + (f" step {self.step}" if self.step is not None else " (end)")


@dataclass
class RunContext:
    """One run's identity, paths and stepping rules (plain values; the defaults make a quiet local run)."""

    output_dir: str
    model_name: str
    epochs: int = 1
    rank: int = 0
    world_size: int = 1
    device: str = "cpu"
    seed: int = 1234
    log_interval: int = 20
    iter_step: bool = False  # step the learning-rate scheduler every iteration instead of every epoch
    max_iters: Optional[int] = None
    use_amp: bool = False
    amp_level: Optional[str] = None
    metrics_log: MetricsLog = field(default_factory=lambda: MetricsLog(None))
    stop: GracefulStop = field(default_factory=lambda: GracefulStop(signals=()))
    profiler: StepProfiler = field(default_factory=StepProfiler)

    @classmethod
    def from_config(cls, cfg, rank: int = 0, world_size: int = 1, **values) -> "RunContext":
        """The context of ``cfg`` for this process; ``values`` set the other fields. Only rank 0 writes
        ``metrics.jsonl``."""
        output_dir = output_dir_of(cfg)
        values.setdefault("metrics_log", MetricsLog(output_dir if rank == 0 else None))
        return cls(output_dir=output_dir, model_name=cfg.model_name, epochs=int(cfg.get("epochs") or 1),
                   rank=rank, world_size=world_size, log_interval=int(setting(cfg, "log_interval")),
                   iter_step=lr_steps_per_iteration(cfg.get("OPTIMIZER", {}).get("learning_rate")), **values)

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs and writes files."""
        return self.rank == 0

    def steps_of(self, loader) -> int:
        """Iterations this run takes from ``loader`` per epoch (``--max_iters`` caps it)."""
        return len(loader) if self.max_iters is None else min(len(loader), self.max_iters)


@dataclass
class Trainables:
    """What one training step updates: the model, its optimizer and scheduler, and the AMP scaler."""

    model: Any
    optimizer: Any
    scheduler: Any
    scaler: Any = None
