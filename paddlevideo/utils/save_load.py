"""Checkpoint I/O: atomic writes, clear errors on bad files, PaddleVideo's key mapping on load."""
import errno
import io
import logging
import os
import pickle
import shutil

from .atomic import atomic_write
from .download import fetch_weights
from .errors import UserError
from .safe_pickle import CheckpointTooComplex, CorruptPickle, ForbiddenObject, check_checkpoint_bytes

logger = logging.getLogger(__name__)


class CheckpointError(UserError, RuntimeError):
    """A checkpoint file is missing, empty, corrupt, or does not fit the model; the message names it."""


def save(obj, path: str):
    """``paddle.save(obj, path)`` atomically: temp file in the same folder, fsync, rename.

    A crash at any moment leaves either the old file or the complete new one, never a partial file.
    """
    import paddle
    buffer = io.BytesIO()
    paddle.save(obj, buffer)  # serialised first: a full disk is then reported with the exact size needed
    data = buffer.getvalue()
    try:
        with atomic_write(path, "wb") as (f, _):
            f.write(data)
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
        raise CheckpointError(f"cannot write checkpoint {path}: {err.strerror} ({len(data) / 2**20:.1f} MiB needed, "
                              f"{free / 2**20:.1f} MiB free); the previous file, if any, is unchanged") from None


def load(path: str):
    """``paddle.load(path)`` with one clear ``CheckpointError`` for a missing, empty or corrupt file.

    The bytes are first replayed by a restricted unpickler (``safe_pickle``): a file that asks for
    anything but what ``paddle.save`` writes for state dicts and optimizer state is refused, so
    loading a checkpoint never runs code.
    """
    import paddle
    if not path:
        raise CheckpointError("no checkpoint path given")
    path = fetch_weights(path)  # an http(s) URL: its copy in the weights cache, downloaded once
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint path is a folder, expected a .pdparams/.pdopt file: {path}")
    if os.path.getsize(path) == 0:
        raise CheckpointError(f"checkpoint is empty (0 bytes): {path}")
    with open(path, "rb") as f:
        data = f.read()
    try:
        check_checkpoint_bytes(data)  # nothing but checkpoint types is built: no code runs
        return paddle.load(io.BytesIO(data))
    except ForbiddenObject as err:
        raise CheckpointError(
            f"checkpoint {path} refused: it asks to load {err.name}, which a Paddle checkpoint never holds "
            "(loading it could run code); only state dicts and optimizer state are loaded") from None
    except CheckpointTooComplex as err:
        raise CheckpointError(f"checkpoint {path} refused: {err}") from None
    except CorruptPickle as err:
        raise CheckpointError(f"checkpoint {path} is corrupt or not a Paddle checkpoint ({err})") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, AttributeError,
            IndexError, OSError, RuntimeError, ModuleNotFoundError, UnicodeDecodeError) as err:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or not a Paddle checkpoint "
            f"({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else 'no detail'})") from None


def _shape(value):
    return list(getattr(value, "shape", []))


def match_state_dict(model_state: dict, ckpt_state: dict):
    """Map checkpoint keys onto model keys as PaddleVideo does.

    A model key ``k`` takes ``k`` from the file, else ``backbone.k`` (a whole recognizer's
    checkpoint into a bare backbone), else ``_layers.k`` (a ``paddle.DataParallel`` checkpoint).
    Returns ``(matched, missing, unexpected, mismatched)`` where ``matched`` maps model key ->
    value and ``mismatched`` lists ``(key, model_shape, ckpt_shape)``.
    """
    stripped = {}
    for key, value in ckpt_state.items():
        plain = key[len("_layers."):] if key.startswith("_layers.") else key
        stripped.setdefault(plain, value)
    matched, missing, mismatched, used = {}, [], [], set()
    for key, param in model_state.items():
        for candidate in (key, "backbone." + key):
            if candidate in stripped:
                break
        else:
            missing.append(key)
            continue
        value = stripped[candidate]
        used.add(candidate)
        if _shape(value) != _shape(param):
            mismatched.append((key, _shape(param), _shape(value)))
            continue
        matched[key] = value
    unexpected = [k for k in stripped if k not in used]
    return matched, missing, unexpected, mismatched


def load_ckpt(model, path: str, strict_shapes: bool = False, logger=None, show_progress: bool = True,
              only_may_differ=None, state=None):
    """Load ``path`` into ``model`` (a Layer), reporting what did not load.

    Keys are mapped by ``match_state_dict``. Tensors whose shape differs are skipped with a
    warning naming each (fine-tuning with another class count), or raise ``CheckpointError``
    when ``strict_shapes``. ``only_may_differ`` (key prefixes, e.g. ``("head.fc.",)`` when
    fine-tuning): any other model tensor missing from the file or of another shape raises
    ``CheckpointError`` before anything is loaded. Returns a dict with ``loaded``, ``missing``,
    ``unexpected`` and ``mismatched`` key lists. ``state``: the file's content when the caller has already
    loaded it (``path`` then only names it in messages).
    """
    import numpy as np
    import paddle
    logger = logger or logging.getLogger(__name__)
    state = load(path) if state is None else state
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, expected a state dict")
    odd = [k for k in state if not isinstance(k, str)]
    if odd:
        raise CheckpointError(f"checkpoint {path} has a key that is not a tensor name: {odd[0]!r} "
                              f"({type(odd[0]).__name__}); a state dict maps names such as 'head.fc.weight' to tensors")
    model_state = model.state_dict()
    matched, missing, unexpected, mismatched = match_state_dict(model_state, state)
    if mismatched and strict_shapes:
        detail = "; ".join(f"{k}: model {m} vs file {c}" for k, m, c in mismatched[:10])
        raise CheckpointError(f"checkpoint {path} does not fit the model ({len(mismatched)} shape "
                              f"mismatches): {detail}")
    if only_may_differ is not None:
        _refuse_unexpected_gaps(path, missing, mismatched, tuple(only_may_differ), len(model_state))
    if not matched:
        raise CheckpointError(
            f"checkpoint {path} shares no parameter with the model (file keys like "
            f"{list(state)[:3]}, model keys like {list(model_state)[:3]})")
    items = list(matched.items())
    if show_progress and len(items) > 50:
        from tqdm import tqdm
        items = tqdm(items, desc=f"loading {os.path.basename(path)}", leave=False, mininterval=0.5,
                     disable=None)  # None: only on a terminal, never into a redirected log
    for key, value in items:
        target = model_state[key]
        array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        # A Tensor, not a numpy array: set_value's numpy path converts dtypes through whichever IR
        # (PIR or legacy) is active, and an earlier export in the same process can leave them disagreeing.
        target.set_value(paddle.to_tensor(array.astype(_np_dtype(target), copy=False)))
    for key, model_shape, file_shape in mismatched:
        logger.warning(f"{path}: skipped '{key}': shape {file_shape} in the file, {model_shape} in the model")
    if missing:
        logger.warning(f"{path}: {len(missing)} model parameters not in the file (left as initialised): "
                       f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
    if unexpected:
        logger.info(f"{path}: {len(unexpected)} tensors in the file not used by the model: "
                    f"{', '.join(unexpected[:10])}{' ...' if len(unexpected) > 10 else ''}")
    logger.info(f"loaded {len(matched)}/{len(model_state)} tensors from {path}")
    return {"loaded": list(matched), "missing": missing, "unexpected": unexpected,
            "mismatched": [k for k, _, _ in mismatched]}


def _refuse_unexpected_gaps(path, missing, mismatched, allowed, total):
    """``CheckpointError`` when tensors outside the ``allowed`` prefixes are missing or of another shape."""
    gaps = [k for k in missing if not k.startswith(allowed)]
    wrong = [(k, m, c) for k, m, c in mismatched if not k.startswith(allowed)]
    if not gaps and not wrong:
        return
    where = f" (only {', '.join(allowed)}* may differ)" if allowed else ""
    detail = [f"{len(gaps)} of the model's {total} tensors missing ({', '.join(gaps[:4])}"
              f"{' ...' if len(gaps) > 4 else ''})"] if gaps else []
    detail += [f"{len(wrong)} of another shape ({'; '.join(f'{k}: model {m} vs file {c}' for k, m, c in wrong[:3])}"
               f"{' ...' if len(wrong) > 3 else ''})"] if wrong else []
    raise CheckpointError(f"checkpoint {path} does not fit this model{where}: {', '.join(detail)}; "
                          "is it a checkpoint of another network (check MODEL.backbone.depth)?")


def _np_dtype(tensor):
    import numpy as np
    name = str(tensor.dtype).replace("paddle.", "")
    return np.dtype({"bfloat16": "uint16"}.get(name, name))
