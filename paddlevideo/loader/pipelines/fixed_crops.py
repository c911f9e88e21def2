"""Deterministic crops for validation and test: ``CenterCrop``, ``TenCrop`` and ``ThreeCrop``."""
import cv2
import numpy as np

from ..registry import PIPELINES
from .base import PipelineOp, SquareCropOp
from .frames import as_frames, check_backend, check_fits, check_size


@PIPELINES.register()
class CenterCrop(PipelineOp):
    """Centre ``target_size`` square crop; ``do_round`` rounds the offset half-to-even, else floors it.

    A frame smaller than the crop is an error. ``backend`` is accepted for PaddleVideo's configs
    (the crop is the same either way).

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> uint8 ``[T, target_size, target_size, 3]`` array (a view of the input).
    """

    def __init__(self, target_size, do_round=True, backend="pillow"):
        check_backend("CenterCrop", backend)
        check_size("CenterCrop", "target_size", target_size)
        self.target_size, self.do_round, self.backend = target_size, do_round, backend

    def __call__(self, results):
        frames = as_frames(results.get("imgs"), "CenterCrop")
        h, w = frames.shape[1:3]
        t = self.target_size
        check_fits("CenterCrop", w, h, t, t)
        x1 = int(round((w - t) / 2.0)) if self.do_round else (w - t) // 2
        y1 = int(round((h - t) / 2.0)) if self.do_round else (h - t) // 2
        results["imgs"] = frames[:, y1:y1 + t, x1:x1 + t]
        return results


def ten_crop_offsets(w, h, t):
    """Upper-left corners ``(x, y)`` of TenCrop's five boxes, in PaddleVideo's order UL, UR, LL, LR, C."""
    ws, hs = (w - t) // 4, (h - t) // 4
    return [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]


@PIPELINES.register()
class TenCrop(SquareCropOp):
    """Five ``target_size`` crops and their mirror images (PaddleVideo's test-time views).

    Order: for each box (UL, UR, LL, LR, C; ``ten_crop_offsets``) the T crops, then the same T crops
    flipped horizontally.

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> uint8 ``[10*T, target_size, target_size, 3]`` array.
    """

    def __call__(self, results):
        frames, h, w, t = self.frames_that_fit(results)
        n, c = frames.shape[0], frames.shape[3]
        out = np.empty((10 * n, t, t, c), dtype=frames.dtype)
        for k, (x, y) in enumerate(ten_crop_offsets(w, h, t)):
            out[2 * k * n:(2 * k + 1) * n] = frames[:, y:y + t, x:x + t]
            for i in range(n):  # cv2.flip is ~3x faster than copying a negative-stride numpy view
                cv2.flip(out[2 * k * n + i], 1, dst=out[(2 * k + 1) * n + i])
        results["imgs"] = out
        return results


@PIPELINES.register()
class ThreeCrop(SquareCropOp):
    """Three ``target_size`` crops along the long side (start, end, middle), centred on the short side.

    PaddleVideo's TSN has no ThreeCrop; the box order follows its ``UniformCrop`` (0, 2*step, step).

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> uint8 ``[3*T, target_size, target_size, 3]`` array, box by box.
    """

    def __call__(self, results):
        frames, h, w, t = self.frames_that_fit(results)
        if w >= h:
            step, y = (w - t) // 2, (h - t) // 2
            boxes = [(0, y), (2 * step, y), (step, y)]
        else:
            step, x = (h - t) // 2, (w - t) // 2
            boxes = [(x, 0), (x, 2 * step), (x, step)]
        results["imgs"] = np.concatenate([frames[:, y:y + t, x:x + t] for x, y in boxes])
        return results
