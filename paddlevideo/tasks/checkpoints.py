"""Checkpoint names (PaddleVideo's), atomic saving of a model/optimizer pair, and finding a resume point.

``<output_dir>/<model_name>_epoch_00001.pdparams`` + ``.pdopt`` after epoch index 0, and
``<model_name>_best.pdparams`` + ``.pdopt``. The ``.pdopt`` is written before the ``.pdparams``
(PaddleVideo's order), each one atomically, so an epoch counts as saved once its ``.pdparams`` exists.
"""
import os
import re

from ..utils.save_load import CheckpointError, load, save


def epoch_prefix(output_dir: str, model_name: str, epoch: int) -> str:
    """Path without extension of the checkpoint saved after 1-based ``epoch``."""
    return os.path.join(output_dir, f"{model_name}_epoch_{int(epoch):05d}")


def best_prefix(output_dir: str, model_name: str) -> str:
    return os.path.join(output_dir, f"{model_name}_best")


def save_pair(model, optimizer, prefix: str):
    """Write ``prefix.pdopt`` then ``prefix.pdparams``, each atomically (temp file + rename)."""
    save(optimizer.state_dict(), prefix + ".pdopt")
    save(model.state_dict(), prefix + ".pdparams")


def latest_epoch(output_dir: str, model_name: str) -> int:
    """Highest 1-based epoch with both ``.pdparams`` and ``.pdopt`` in ``output_dir`` (0 when none)."""
    if not os.path.isdir(output_dir):
        return 0
    pattern = re.compile(re.escape(model_name) + r"_epoch_(\d{5,})\.pdparams$")
    names = set(os.listdir(output_dir))
    epochs = [int(m.group(1)) for m in map(pattern.match, names) if m]
    complete = [e for e in epochs if f"{model_name}_epoch_{e:05d}.pdopt" in names]
    return max(complete, default=0)


def load_resume(model, optimizer, output_dir: str, model_name: str, epoch: int) -> str:
    """Load model and optimizer (with its LR scheduler state) saved after ``epoch``; returns the prefix."""
    prefix = epoch_prefix(output_dir, model_name, epoch)
    params, opt_state = load(prefix + ".pdparams"), load(prefix + ".pdopt")
    missing = [k for k in model.state_dict() if k not in params]
    if missing:
        raise CheckpointError(f"{prefix}.pdparams lacks {len(missing)} model tensors, e.g. {missing[:3]}: "
                              "is it from another model or config?")
    model.set_state_dict(params)
    optimizer.set_state_dict(opt_state)
    return prefix


def remove_stale_temp_files(output_dir: str, model_name: str) -> list:
    """Delete ``<model_name>_*.tmp`` left by a run killed while saving; returns the removed names."""
    if not os.path.isdir(output_dir):
        return []
    stale = [n for n in os.listdir(output_dir) if n.startswith(model_name + "_") and n.endswith(".tmp")]
    for name in stale:
        os.remove(os.path.join(output_dir, name))
    return stale
