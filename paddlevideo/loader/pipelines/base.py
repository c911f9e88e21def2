"""``PipelineOp``: the base of every pipeline op; it keeps the constructor arguments for ``repr``."""
import inspect

from .frames import as_frames, check_fits, check_size


class PipelineOp:
    """Base class of the pipeline ops: ``repr(op)`` shows the class and every constructor parameter.

    ``Scale(short_size=256)`` prints as ``Scale(short_size=256, fixed_ratio=True, keep_ratio=None,
    do_round=False, backend='pillow')``, defaults filled in, so logs and exported configs show exactly
    how an op was built. Subclasses only write ``__init__`` and ``__call__(results) -> results``.
    """

    def __new__(cls, *args, **kwargs):
        op = super().__new__(cls)
        # Recorded before __init__ runs, so subclasses need no bookkeeping; pickling keeps it in __dict__.
        op._init_call = (args, kwargs)
        return op

    @property
    def init_params(self) -> dict:
        """The constructor parameters, in signature order, defaults included."""
        args, kwargs = self.__dict__.get("_init_call", ((), {}))
        try:
            bound = inspect.signature(type(self).__init__).bind(self, *args, **kwargs)
        except TypeError:  # the call __init__ itself would have rejected
            return dict(enumerate(args), **kwargs)
        bound.apply_defaults()
        params = dict(bound.arguments)
        params.pop(next(iter(params)))  # self
        return params

    def __repr__(self):
        params = ", ".join(f"{name}={value!r}" for name, value in self.init_params.items())
        return f"{type(self).__name__}({params})"


class SquareCropOp(PipelineOp):
    """An op that cuts ``target_size x target_size`` crops (TenCrop, ThreeCrop, RandomCrop)."""

    def __init__(self, target_size):
        check_size(type(self).__name__, "target_size", target_size)
        self.target_size = target_size

    def frames_that_fit(self, results):
        """``(frames [T, H, W, C], H, W, target_size)``; a ``PipelineError`` when a frame is smaller."""
        frames = as_frames(results.get("imgs"), type(self).__name__)
        h, w = frames.shape[1:3]
        t = self.target_size
        check_fits(type(self).__name__, w, h, t, t)
        return frames, h, w, t
