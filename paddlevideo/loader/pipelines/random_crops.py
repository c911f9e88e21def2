"""Training crops drawn with Python's ``random``, one box per clip: ``MultiScaleCrop`` and ``RandomCrop``.

The draws are PaddleVideo's, in its order (``MultiScaleCrop``: two ``random.choice``), so the same
seed gives the same boxes.
"""
import random

from ..registry import PIPELINES
from .base import PipelineOp, SquareCropOp
from .frames import as_frames, check_backend, check_size, resize_frames


def multi_scale_crop_box(w, h, target_size, scales, max_distort, fix_crop, allow_duplication,
                         more_fix_crop):
    """Draw a crop ``(crop_w, crop_h, x_offset, y_offset)`` as PaddleVideo does (Python ``random``)."""
    base_size = min(w, h)
    crop_sizes = [int(base_size * s) for s in scales]
    crop_h = [target_size if abs(x - target_size) < 3 else x for x in crop_sizes]
    crop_w = [target_size if abs(x - target_size) < 3 else x for x in crop_sizes]
    pairs = [(cw, ch) for i, ch in enumerate(crop_h) for j, cw in enumerate(crop_w)
             if abs(i - j) <= max_distort]
    cw, ch = random.choice(pairs)
    if not fix_crop:
        return cw, ch, random.randint(0, w - cw), random.randint(0, h - ch)
    ws, hs = (w - cw) / 4, (h - ch) / 4
    cands = [(0, 0)]
    if allow_duplication or ws != 0:
        cands.append((4 * ws, 0))
    if allow_duplication or hs != 0:
        cands.append((0, 4 * hs))
    if allow_duplication or (hs != 0 and ws != 0):
        cands.append((4 * ws, 4 * hs))
    if allow_duplication or (hs != 0 or ws != 0):
        cands.append((2 * ws, 2 * hs))
    if more_fix_crop:
        cands += [(0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 4 * hs), (2 * ws, 0 * hs),
                  (1 * ws, 1 * hs), (3 * ws, 1 * hs), (1 * ws, 3 * hs), (3 * ws, 3 * hs)]
    ox, oy = random.choice(cands)
    return cw, ch, ox, oy


@PIPELINES.register()
class MultiScaleCrop(PipelineOp):
    """Random multi-scale corner or centre crop (same box for every frame), resized to ``target_size``.

    The crop side is ``min(H, W)`` times one of ``scales``, the box one of the fixed corner/centre
    positions (``fix_crop``) or anywhere; see ``multi_scale_crop_box``.

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> uint8 ``[T, target_size, target_size, 3]`` array.
    """

    def __init__(self, target_size, scales=None, max_distort=1, fix_crop=True, allow_duplication=False,
                 more_fix_crop=True, backend="pillow"):
        check_backend("MultiScaleCrop", backend)
        check_size("MultiScaleCrop", "target_size", target_size)
        self.target_size = target_size
        self.scales = scales if scales else [1, .875, .75, .66]
        self.max_distort, self.fix_crop = max_distort, fix_crop
        self.allow_duplication, self.more_fix_crop = allow_duplication, more_fix_crop
        self.backend = backend

    def __call__(self, results):
        frames = as_frames(results.get("imgs"), "MultiScaleCrop")
        h, w = frames.shape[1:3]
        cw, ch, ox, oy = multi_scale_crop_box(w, h, self.target_size, self.scales, self.max_distort,
                                              self.fix_crop, self.allow_duplication, self.more_fix_crop)
        # PIL's crop rounds each box coordinate half-to-even; we slice with the same rounding.
        x0, y0, x1, y1 = (int(round(v)) for v in (ox, oy, ox + cw, oy + ch))
        crops = frames[:, y0:y1, x0:x1]
        t = self.target_size
        results["imgs"] = resize_frames(crops, t, t, self.backend)
        return results


@PIPELINES.register()
class RandomCrop(SquareCropOp):
    """Random ``target_size`` square crop, the same box for every frame.

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> uint8 ``[T, target_size, target_size, 3]`` array (a view of the input).
    """

    def __call__(self, results):
        frames, h, w, t = self.frames_that_fit(results)
        x1 = random.randint(0, w - t)
        y1 = random.randint(0, h - t)
        results["imgs"] = frames[:, y1:y1 + t, x1:x1 + t]
        return results
