"""Checkpoint names (PaddleVideo's), atomic saving of a model/optimizer pair, and finding a resume point.

``<output_dir>/<model_name>_epoch_00001.pdparams`` + ``.pdopt`` after epoch index 0, and
``<model_name>_best.pdparams`` + ``.pdopt``. The ``.pdopt`` is written before the ``.pdparams``
(PaddleVideo's order), each one atomically, so an epoch counts as saved once its ``.pdparams`` exists.
"""
import os
import re

from ..utils.save_load import CheckpointError, load, load_ckpt, save


def epoch_prefix(output_dir: str, model_name: str, epoch: int) -> str:
    """Path without extension of the checkpoint saved after 1-based ``epoch``."""
    return os.path.join(output_dir, f"{model_name}_epoch_{int(epoch):05d}")


def best_prefix(output_dir: str, model_name: str) -> str:
    return os.path.join(output_dir, f"{model_name}_best")


def save_pair(model, optimizer, prefix: str):
    """Write ``prefix.pdopt`` then ``prefix.pdparams``, each atomically (temp file + rename)."""
    save(optimizer.state_dict(), prefix + ".pdopt")
    save(model.state_dict(), prefix + ".pdparams")


def checkpoint_name_pattern(model_name: str):
    """``<model_name>_epoch_<5+ digits>.pdparams`` (group ``epoch``) or ``<model_name>_best.pdparams``: the
    names this project writes, matched whole."""
    return re.compile(re.escape(model_name) + r"_(?:epoch_(?P<epoch>\d{5,})|best)\.pdparams")


def checkpoint_names(output_dir: str, model_name: str) -> list:
    """Names of ``<model_name>``'s epoch and best ``.pdparams`` in ``output_dir``, sorted ([] without the folder)."""
    if not os.path.isdir(output_dir):
        return []
    pattern = checkpoint_name_pattern(model_name)
    return sorted(n for n in os.listdir(output_dir) if pattern.fullmatch(n))


def latest_epoch(output_dir: str, model_name: str) -> int:
    """Highest 1-based epoch with both ``.pdparams`` and ``.pdopt`` in ``output_dir`` (0 when none)."""
    pattern = checkpoint_name_pattern(model_name)
    names = checkpoint_names(output_dir, model_name)
    epochs = [int(m.group("epoch")) for m in map(pattern.fullmatch, names) if m.group("epoch")]
    complete = [e for e in epochs if os.path.isfile(os.path.join(output_dir, f"{model_name}_epoch_{e:05d}.pdopt"))]
    return max(complete, default=0)


def load_resume(model, optimizer, output_dir: str, model_name: str, epoch: int) -> str:
    """Load model and optimizer (with its LR scheduler state) saved after ``epoch``; returns the prefix.

    Resuming needs the very model that was saved: any missing or mis-shaped tensor (another depth or class
    count) is a ``CheckpointError`` before the optimizer state is touched.
    """
    prefix = epoch_prefix(output_dir, model_name, epoch)
    load_ckpt(model, prefix + ".pdparams", strict_shapes=True, only_may_differ=(), show_progress=False)
    opt_state = load(prefix + ".pdopt")
    try:
        optimizer.set_state_dict(opt_state)
    except (AssertionError, ValueError, KeyError, RuntimeError, TypeError) as err:
        raise CheckpointError(f"{prefix}.pdopt does not fit this optimizer or model: {str(err).splitlines()[0]}; "
                              "resume with the config the run was started with") from None
    return prefix


def remove_stale_temp_files(output_dir: str, model_name: str) -> list:
    """Delete ``<model_name>_*.tmp`` left by a run killed while saving; returns the removed names."""
    if not os.path.isdir(output_dir):
        return []
    stale = [n for n in os.listdir(output_dir) if n.startswith(model_name + "_") and n.endswith(".tmp")]
    for name in stale:
        os.remove(os.path.join(output_dir, name))
    return stale
