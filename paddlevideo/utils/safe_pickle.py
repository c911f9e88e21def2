"""A restricted unpickler for checkpoints: loading a ``.pdparams``/``.pdopt`` never runs code.

``paddle.save`` writes a pickle, and a pickle can name any importable callable (``os.system``) for the
loader to call. ``check_checkpoint_bytes`` replays the pickle with an unpickler that can build only what
``paddle.save`` emits for state dicts and optimizer state: containers, numbers, strings, numpy arrays,
scalars and dtypes, and Paddle's own form for a raw tensor (``eval('data', {'data': array})``, accepted in
exactly that form). Anything else is refused before ``paddle.load`` sees the bytes.

What it builds is bounded too, so a small file cannot make the loader (or ``paddle.load`` after it, which walks
the result as a tree) run for ever or take all memory. The limits are far above any real checkpoint (a
ResNet-50 TSN ``.pdparams`` of 98 MB builds 3,390 objects with 1,332 memo references, a tree of 1,071 nodes
3 levels deep; its Momentum ``.pdopt`` of 94 MB 2,093 objects and 792 references):
  - objects built (each pickle opcode builds at most one, copies by ``list(...)`` and the like count their
    length): ``MAX_OBJECTS``;
  - references to memoized objects: ``MAX_MEMO_REFERENCES``;
  - nesting depth: ``MAX_DEPTH``;
  - size of the result expanded as a tree (shared references counted at every place they appear: 60 nested
    levels of ``[n, n]`` are 2^60 nodes from a few hundred bytes): ``MAX_TREE_NODES``; a cycle is refused;
  - array bytes: no more than the file holds (real arrays carry their data in the file), and no more than
    ``MAX_SHARED_ARRAY_FACTOR`` times that with shared arrays counted at every place they appear.
"""
import io
import pickle
import pickletools

import numpy as np

MAX_OBJECTS = 2_000_000
MAX_MEMO_REFERENCES = 2_000_000
MAX_DEPTH = 100
MAX_TREE_NODES = 2_000_000
MAX_SHARED_ARRAY_FACTOR = 4

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


class CheckpointTooComplex(pickle.UnpicklingError):
    """The pickle builds more (objects, references, depth, array bytes) than any checkpoint does."""


# Opcodes that build no new object: stack and memo bookkeeping, and filling a container already built.
_NOT_BUILDING = {"MARK", "STOP", "POP", "POP_MARK", "PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE", "FRAME", "PROTO",
                 "APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"}
_REFERENCES = {"GET", "BINGET", "LONG_BINGET", "DUP"}
# Callables a pickle may call that copy an argument of any size (a memoized list, say) or allocate one.
_COPYING = {("builtins", n) for n in ("tuple", "list", "dict", "set", "frozenset", "bytearray")} | {
    ("collections", "OrderedDict")}


def _count_opcodes(data: bytes):
    """Refuse a pickle with too many objects or memo references, before anything is built."""
    built = references = 0
    try:
        for opcode, _, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name in _REFERENCES:
                references += 1
                if references > MAX_MEMO_REFERENCES:
                    raise CheckpointTooComplex(f"it refers to memoized objects more than {MAX_MEMO_REFERENCES:,} "
                                               "times; a checkpoint does far fewer")
            elif opcode.name not in _NOT_BUILDING:
                built += 1
                if built > MAX_OBJECTS:
                    raise CheckpointTooComplex(f"it builds more than {MAX_OBJECTS:,} objects; a checkpoint "
                                               "holds far fewer")
    except ValueError:
        pass  # a malformed stream: the unpickler reports it in its own words


class CorruptPickle(pickle.UnpicklingError):
    """The bytes are not a pickle; the message is the unpickler's own error, ``Type: detail``."""


class _CheckpointUnpickler(pickle.Unpickler):
    def __init__(self, file, data_size: int):
        super().__init__(file)
        self._copied, self._data_size = 0, data_size

    def _bounded(self, build):
        """``build`` (a copying constructor) refusing to copy or allocate beyond the budget."""
        def bounded(*args, **kwargs):
            for arg in list(args) + list(kwargs.values()):
                size = arg if isinstance(arg, int) and build is bytearray else len(arg) if hasattr(arg, "__len__") \
                    else 0
                if build is bytearray:
                    if size > self._data_size:
                        raise CheckpointTooComplex(f"it asks for a bytearray of {size:,} bytes, more than the "
                                                   f"{self._data_size:,}-byte file holds")
                    continue
                self._copied += size
                if self._copied > MAX_OBJECTS:
                    raise CheckpointTooComplex(f"it copies more than {MAX_OBJECTS:,} items; a checkpoint "
                                               "copies far fewer")
            return build(*args, **kwargs)
        return bounded

    def find_class(self, module, name):
        if (module, name) in _COPYING:
            return self._bounded(super().find_class(module, name))
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if (module, name) == ("builtins", "eval"):
            return _paddle_tensor_form
        raise ForbiddenObject(f"{module}.{name}")

    def persistent_load(self, pid):
        raise ForbiddenObject(f"persistent id {pid!r}")


def _children(obj):
    """The objects ``obj`` contains (``None`` for a leaf)."""
    if isinstance(obj, dict):
        return [item for pair in obj.items() for item in pair]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return obj
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        return obj.ravel().tolist()
    return None


class _GraphCheck:
    """Walks the built object once (shared objects once), computing what it is as a tree: its nodes, its height
    and its array bytes (an array shared by many keys becomes one tensor per key in ``paddle.load``)."""

    def __init__(self, data_size: int):
        self.data_size, self.array_bytes = data_size, 0
        self.seen, self.on_path = {}, set()

    def _leaf(self, obj) -> tuple:
        if not isinstance(obj, np.ndarray):
            return 1, 1, 0
        if id(obj) not in self.seen:
            self.seen[id(obj)] = None
            self.array_bytes += obj.nbytes
            if self.array_bytes > self.data_size:
                raise CheckpointTooComplex(f"its arrays declare {self.array_bytes:,} bytes or more, more than the "
                                           f"{self.data_size:,}-byte file holds")
        return 1, 1, obj.nbytes

    def measure(self, obj, depth: int = 1) -> tuple:
        """``(tree nodes, height, array bytes)`` of ``obj`` reached at ``depth``; raises ``CheckpointTooComplex``."""
        children = _children(obj)
        if children is None:
            return self._leaf(obj)
        key = id(obj)
        if key in self.on_path:
            raise CheckpointTooComplex("it holds a container that contains itself; a checkpoint never does")
        if key not in self.seen:
            if depth > MAX_DEPTH:
                raise CheckpointTooComplex(f"it nests containers more than {MAX_DEPTH} levels deep; a checkpoint "
                                           "nests a few")
            self.on_path.add(key)
            nodes, height, nbytes = 1, 0, 0
            for child in children:
                child_nodes, child_height, child_bytes = self.measure(child, depth + 1)
                nodes, height, nbytes = nodes + child_nodes, max(height, child_height), nbytes + child_bytes
                if nodes > MAX_TREE_NODES:
                    raise CheckpointTooComplex(f"its shared references expand to more than {MAX_TREE_NODES:,} "
                                               "objects; a checkpoint holds far fewer")
                if nbytes > MAX_SHARED_ARRAY_FACTOR * self.data_size:
                    raise CheckpointTooComplex(f"its shared arrays expand to more than {MAX_SHARED_ARRAY_FACTOR} "
                                               f"times the file's {self.data_size:,} bytes")
            self.on_path.discard(key)
            self.seen[key] = (nodes, height + 1, nbytes)
        nodes, height, nbytes = self.seen[key]
        if depth + height - 1 > MAX_DEPTH:
            raise CheckpointTooComplex(f"it nests containers more than {MAX_DEPTH} levels deep; a checkpoint "
                                       "nests a few")
        return nodes, height, nbytes


def check_checkpoint_bytes(data: bytes):
    """Unpickle ``data`` with only checkpoint types allowed; returns the object (numpy arrays for tensors).

    Raises ``ForbiddenObject`` naming the first object that is not allowed, ``CheckpointTooComplex`` when it
    builds more than any checkpoint (see the limits above), or ``CorruptPickle`` for bytes that are not a pickle.
    """
    _count_opcodes(data)
    try:
        obj = _CheckpointUnpickler(io.BytesIO(data), len(data)).load()
    except (ForbiddenObject, CheckpointTooComplex):
        raise
    except MemoryError:
        raise CheckpointTooComplex(f"it asks for more memory than its {len(data):,} bytes can hold") from None
    except Exception as err:  # arbitrary bytes fail in many ways: EOFError, KeyError, OverflowError, struct.error...
        detail = str(err).splitlines()[0][:200] if str(err) else "no detail"
        raise CorruptPickle(f"{type(err).__name__}: {detail}") from None
    _GraphCheck(len(data)).measure(obj)
    return obj
