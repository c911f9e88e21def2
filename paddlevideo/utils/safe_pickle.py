"""A restricted unpickler for checkpoints: loading a ``.pdparams``/``.pdopt`` never runs code.

``paddle.save`` writes a pickle, and a pickle can name any importable callable (``os.system``) for the
loader to call. ``check_checkpoint_bytes`` replays the pickle with an unpickler that can build only what
``paddle.save`` emits for state dicts and optimizer state: containers, numbers, strings, numpy arrays,
scalars and dtypes, and Paddle's own form for a raw tensor (``eval('data', {'data': array})``, accepted in
exactly that form). Anything else is refused before ``paddle.load`` sees the bytes.
"""
import io
import pickle

import numpy as np

_ALLOWED = {
    ("builtins", "tuple"), ("builtins", "list"), ("builtins", "dict"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "bytearray"), ("builtins", "complex"), ("builtins", "slice"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),  # protocol 2 writes bytes through it
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
}


class ForbiddenObject(pickle.UnpicklingError):
    """The pickle asks for an object a checkpoint never holds; ``name`` is ``module.qualname``."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _paddle_tensor_form(expression, namespace):
    """Paddle pickles a DenseTensor as ``eval('data', {'data': array})``: accept that, and only that."""
    if expression == "data" and isinstance(namespace, dict) and set(namespace) == {"data"} \
            and isinstance(namespace["data"], np.ndarray):
        return namespace["data"]
    raise ForbiddenObject(f"builtins.eval({expression!r}, ...)")


class _CheckpointUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if (module, name) == ("builtins", "eval"):
            return _paddle_tensor_form
        raise ForbiddenObject(f"{module}.{name}")

    def persistent_load(self, pid):
        raise ForbiddenObject(f"persistent id {pid!r}")


def check_checkpoint_bytes(data: bytes):
    """Unpickle ``data`` with only checkpoint types allowed; returns the object (numpy arrays for tensors).

    Raises ``ForbiddenObject`` naming the first object that is not allowed, or the usual unpickling
    errors for a corrupt file.
    """
    return _CheckpointUnpickler(io.BytesIO(data)).load()
