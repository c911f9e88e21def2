"""Checkpoint names (PaddleVideo's), atomic saving of a model/optimizer pair, and finding a resume point.

``<output_dir>/<model_name>_epoch_00001.pdparams`` + ``.pdopt`` after epoch index 0, and
``<model_name>_best.pdparams`` + ``.pdopt``. The ``.pdopt`` is written before the ``.pdparams``
(PaddleVideo's order), each one atomically, so an epoch counts as saved once its ``.pdparams`` exists.
"""
import math
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
    check_optimizer_state(opt_state, model, prefix + ".pdopt")
    try:
        optimizer.set_state_dict(opt_state)
    except (AssertionError, ValueError, KeyError, RuntimeError, TypeError) as err:
        raise CheckpointError(f"{prefix}.pdopt does not fit this optimizer or model: {str(err).splitlines()[0]}; "
                              "resume with the config the run was started with") from None
    return prefix


# Optimizer-state entries that belong to no parameter.
_OPTIMIZER_WIDE = ("LR_Scheduler", "master_weights")


def check_optimizer_state(opt_state, model, path: str):
    """``CheckpointError`` unless every accumulator in ``opt_state`` (``<parameter name>_<kind>_<n>``, as Paddle
    names them) belongs to a parameter of ``model`` and has its shape (or is a one-element counter such as
    Adam's ``beta1_pow_acc``). Paddle itself would accept such a file and fail at the first step."""
    if not isinstance(opt_state, dict):
        raise CheckpointError(f"{path} holds a {type(opt_state).__name__}, expected an optimizer state dict")
    shapes = {p.name: list(p.shape) for p in model.parameters()}
    longest_first = sorted(shapes, key=len, reverse=True)
    foreign, misshaped = [], []
    for key, value in opt_state.items():
        if key in _OPTIMIZER_WIDE:
            continue
        owner = next((n for n in longest_first if isinstance(key, str) and key.startswith(n + "_")), None)
        if owner is None:
            foreign.append(repr(key))
            continue
        shape = list(getattr(value, "shape", []))
        if shape != shapes[owner] and math.prod(shape) != 1:
            misshaped.append(f"{key}: {shape} in the file, parameter {shapes[owner]}")
    if foreign or misshaped:
        detail = ([f"{len(foreign)} entries for no parameter of this model ({', '.join(foreign[:3])}"
                   f"{' ...' if len(foreign) > 3 else ''})"] if foreign else [])
        detail += [f"{len(misshaped)} of another shape ({'; '.join(misshaped[:3])}"
                   f"{' ...' if len(misshaped) > 3 else ''})"] if misshaped else []
        raise CheckpointError(f"{path} is the optimizer state of another model: {', '.join(detail)}; resume with "
                              "the config the run was started with")


def remove_stale_temp_files(output_dir: str, model_name: str) -> list:
    """Delete ``<model_name>_*.tmp`` left by a run killed while saving; returns the removed names."""
    if not os.path.isdir(output_dir):
        return []
    stale = [n for n in os.listdir(output_dir) if n.startswith(model_name + "_") and n.endswith(".tmp")]
    for name in stale:
        os.remove(os.path.join(output_dir, name))
    return stale
