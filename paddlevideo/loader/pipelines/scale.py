"""``Scale``: resize a clip so its short side has a given length, with PaddleVideo's size arithmetic."""
from ..registry import PIPELINES
from .base import PipelineOp
from .errors import PipelineError
from .frames import as_frames, check_backend, check_size, resize_frames


def scale_size(w, h, short_size, fixed_ratio=True, keep_ratio=None, do_round=False):
    """PaddleVideo's Scale output ``(ow, oh)`` for a ``w x h`` image, or None when it stays as it is.

    The order of the float operations is PaddleVideo's: it decides how sizes round.
    """
    if (w <= h and w == short_size) or (h <= w and h == short_size):
        return None
    if w <= h:  # portrait (and square): the short side is the width
        ow, oh = _short_then_long(w, h, short_size, fixed_ratio, keep_ratio, do_round)
    else:
        oh, ow = _short_then_long(h, w, short_size, fixed_ratio, keep_ratio, do_round)
    return ow, oh


def _short_then_long(short, long, short_size, fixed_ratio, keep_ratio, do_round):
    """New ``(short side, long side)``; one orientation of ``scale_size``, same float operations."""
    if fixed_ratio:
        return short_size, int(short_size * 4.0 / 3.0)
    if keep_ratio is False:
        return short_size, short_size
    scale_factor = short_size / short
    if do_round:
        return int(short * float(scale_factor) + 0.5), int(long * float(scale_factor) + 0.5)
    return short_size, int(long * short_size / short)


@PIPELINES.register()
class Scale(PipelineOp):
    """Resize every frame so the short side is ``short_size`` (output size: ``scale_size``).

    ``fixed_ratio`` makes the long side ``int(short_size * 4 / 3)``; ``keep_ratio=False`` makes it
    ``short_size``; otherwise the aspect ratio is kept (``do_round`` rounds instead of truncating).
    ``backend``: ``cv2`` (``INTER_LINEAR``) or ``pillow`` (``BILINEAR``). Frames whose short side is
    already ``short_size`` are left as they are.

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> uint8 ``[T, oh, ow, 3]`` array.
    """

    def __init__(self, short_size, fixed_ratio=True, keep_ratio=None, do_round=False, backend="pillow"):
        if fixed_ratio and keep_ratio:
            raise PipelineError("Scale: fixed_ratio and keep_ratio cannot both be true")
        check_backend("Scale", backend)
        check_size("Scale", "short_size", short_size)
        self.short_size = short_size
        self.fixed_ratio, self.keep_ratio, self.do_round = fixed_ratio, keep_ratio, do_round
        self.backend = backend

    def __call__(self, results):
        frames = as_frames(results.get("imgs"), "Scale")
        h, w = frames.shape[1:3]
        size = scale_size(w, h, self.short_size, self.fixed_ratio, self.keep_ratio, self.do_round)
        results["imgs"] = frames if size is None else resize_frames(frames, size[0], size[1], self.backend)
        return results
