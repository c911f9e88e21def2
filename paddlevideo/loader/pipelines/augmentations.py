"""Image transforms of the TSN pipelines, on numpy arrays with cv2 (PIL only for ``backend: pillow``).

Every op reads ``results['imgs']`` (RGB ``uint8 [T, H, W, 3]`` array, or a list of ``[H, W, 3]``
arrays) and writes it back. The geometry, float arithmetic and random draws are PaddleVideo's
(``../shared/SPEC.md`` section 4), so the same seeds give the same crops and the same numbers:
one clip draws ``random.choice`` twice in ``MultiScaleCrop`` and ``random.random`` once in ``RandomFlip``.
"""
import random
from collections.abc import Sequence

import cv2
import numpy as np

from ..registry import PIPELINES
from .errors import PipelineError

_BACKENDS = ("pillow", "cv2")


def as_frames(imgs, op: str) -> np.ndarray:
    """``imgs`` as one ``uint8 [T, H, W, C]`` array (lists of arrays or PIL images are stacked)."""
    if isinstance(imgs, np.ndarray):
        arr = imgs
    else:
        if len(imgs) == 0:
            raise PipelineError(f"{op}: results['imgs'] is empty")
        arr = np.stack([np.asarray(img) for img in imgs])
    if arr.ndim != 4:
        raise PipelineError(f"{op}: expected frames [T, H, W, C], got an array of shape {arr.shape}")
    return arr


def _check_backend(op: str, backend: str):
    if backend not in _BACKENDS:
        raise PipelineError(f"{op} backend must be 'pillow' or 'cv2', got '{backend}'")


def _check_fits(op: str, w: int, h: int, tw: int, th: int):
    if w < tw or h < th:
        raise PipelineError(f"{op}: image {w}x{h} (w x h) is smaller than the crop {tw}x{th}")


def resize_frames(frames: np.ndarray, ow: int, oh: int, backend: str = "cv2") -> np.ndarray:
    """Resize every frame to ``ow x oh``: cv2 ``INTER_LINEAR``, or PIL ``BILINEAR`` for ``backend='pillow'``."""
    out = np.empty((frames.shape[0], oh, ow, frames.shape[3]), dtype=frames.dtype)
    if backend == "pillow":
        from PIL import Image
        for i, frame in enumerate(frames):
            out[i] = np.asarray(Image.fromarray(frame).resize((ow, oh), Image.BILINEAR))
    else:
        for i, frame in enumerate(frames):
            cv2.resize(frame, (ow, oh), dst=out[i], interpolation=cv2.INTER_LINEAR)
    return out


def scale_size(w, h, short_size, fixed_ratio=True, keep_ratio=None, do_round=False):
    """PaddleVideo's Scale output ``(ow, oh)`` for a ``w x h`` image, or None when it stays as it is."""
    if (w <= h and w == short_size) or (h <= w and h == short_size):
        return None
    if w <= h:
        ow = short_size
        if fixed_ratio:
            oh = int(short_size * 4.0 / 3.0)
        elif keep_ratio is False:
            oh = short_size
        else:
            scale_factor = short_size / w
            oh = int(h * float(scale_factor) + 0.5) if do_round else int(h * short_size / w)
            ow = int(w * float(scale_factor) + 0.5) if do_round else short_size
    else:
        oh = short_size
        if fixed_ratio:
            ow = int(short_size * 4.0 / 3.0)
        elif keep_ratio is False:
            ow = short_size
        else:
            scale_factor = short_size / h
            oh = int(h * float(scale_factor) + 0.5) if do_round else short_size
            ow = int(w * float(scale_factor) + 0.5) if do_round else int(w * short_size / h)
    return ow, oh


@PIPELINES.register()
class Scale:
    """Resize so the short side is ``short_size``: ``[T, H, W, 3]`` -> ``[T, oh, ow, 3]`` (see ``scale_size``)."""

    def __init__(self, short_size, fixed_ratio=True, keep_ratio=None, do_round=False, backend="pillow"):
        if fixed_ratio and keep_ratio:
            raise PipelineError("Scale: fixed_ratio and keep_ratio cannot both be true")
        _check_backend("Scale", backend)
        self.short_size = short_size
        self.fixed_ratio, self.keep_ratio, self.do_round = fixed_ratio, keep_ratio, do_round
        self.backend = backend

    def __call__(self, results):
        frames = as_frames(results["imgs"], "Scale")
        h, w = frames.shape[1:3]
        size = scale_size(w, h, self.short_size, self.fixed_ratio, self.keep_ratio, self.do_round)
        results["imgs"] = frames if size is None else resize_frames(frames, size[0], size[1], self.backend)
        return results


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
class MultiScaleCrop:
    """Random multi-scale corner/centre crop, resized to ``target_size``: ``[T, H, W, 3]`` -> ``[T, t, t, 3]``."""

    def __init__(self, target_size, scales=None, max_distort=1, fix_crop=True, allow_duplication=False,
                 more_fix_crop=True, backend="pillow"):
        _check_backend("MultiScaleCrop", backend)
        self.target_size = target_size
        self.scales = scales if scales else [1, .875, .75, .66]
        self.max_distort, self.fix_crop = max_distort, fix_crop
        self.allow_duplication, self.more_fix_crop = allow_duplication, more_fix_crop
        self.backend = backend

    def __call__(self, results):
        frames = as_frames(results["imgs"], "MultiScaleCrop")
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
class RandomCrop:
    """Random ``target_size`` square crop, same box for every frame: ``[T, H, W, 3]`` -> ``[T, t, t, 3]``."""

    def __init__(self, target_size):
        self.target_size = target_size

    def __call__(self, results):
        frames = as_frames(results["imgs"], "RandomCrop")
        h, w = frames.shape[1:3]
        t = self.target_size
        _check_fits("RandomCrop", w, h, t, t)
        x1 = random.randint(0, w - t)
        y1 = random.randint(0, h - t)
        results["imgs"] = frames[:, y1:y1 + t, x1:x1 + t]
        return results


@PIPELINES.register()
class RandomFlip:
    """Flip every frame horizontally when one ``random.random()`` per clip is ``< p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, results):
        frames = as_frames(results["imgs"], "RandomFlip")
        if random.random() < self.p:
            frames = np.ascontiguousarray(frames[:, :, ::-1])
        results["imgs"] = frames
        return results


@PIPELINES.register()
class CenterCrop:
    """Centre ``target_size`` square crop: ``[T, H, W, 3]`` -> ``[T, t, t, 3]``."""

    def __init__(self, target_size, do_round=True, backend="pillow"):
        _check_backend("CenterCrop", backend)
        self.target_size, self.do_round, self.backend = target_size, do_round, backend

    def __call__(self, results):
        frames = as_frames(results["imgs"], "CenterCrop")
        h, w = frames.shape[1:3]
        t = self.target_size
        _check_fits("CenterCrop", w, h, t, t)
        x1 = int(round((w - t) / 2.0)) if self.do_round else (w - t) // 2
        y1 = int(round((h - t) / 2.0)) if self.do_round else (h - t) // 2
        results["imgs"] = frames[:, y1:y1 + t, x1:x1 + t]
        return results


def ten_crop_offsets(w, h, t):
    """Upper-left corners ``(x, y)`` of TenCrop's five boxes, in PaddleVideo's order UL, UR, LL, LR, C."""
    ws, hs = (w - t) // 4, (h - t) // 4
    return [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]


@PIPELINES.register()
class TenCrop:
    """Five crops and their mirror images: ``[T, H, W, 3]`` -> ``[10*T, t, t, 3]``.

    Order: for each box (UL, UR, LL, LR, C) the T crops, then the same T crops flipped.
    """

    def __init__(self, target_size):
        self.target_size = target_size

    def __call__(self, results):
        frames = as_frames(results["imgs"], "TenCrop")
        n, h, w, c = frames.shape
        t = self.target_size
        _check_fits("TenCrop", w, h, t, t)
        out = np.empty((10 * n, t, t, c), dtype=frames.dtype)
        for k, (x, y) in enumerate(ten_crop_offsets(w, h, t)):
            out[2 * k * n:(2 * k + 1) * n] = frames[:, y:y + t, x:x + t]
            for i in range(n):  # cv2.flip is ~3x faster than copying a negative-stride numpy view
                cv2.flip(out[2 * k * n + i], 1, dst=out[(2 * k + 1) * n + i])
        results["imgs"] = out
        return results


@PIPELINES.register()
class ThreeCrop:
    """Three ``target_size`` crops along the long side (start, end, middle), centred on the short side.

    ``[T, H, W, 3]`` -> ``[3*T, t, t, 3]``, box by box. PaddleVideo's TSN has no ThreeCrop; the box order
    follows its ``UniformCrop`` (0, 2*step, step).
    """

    def __init__(self, target_size):
        self.target_size = target_size

    def __call__(self, results):
        frames = as_frames(results["imgs"], "ThreeCrop")
        h, w = frames.shape[1:3]
        t = self.target_size
        _check_fits("ThreeCrop", w, h, t, t)
        if w >= h:
            step, y = (w - t) // 2, (h - t) // 2
            boxes = [(0, y), (2 * step, y), (step, y)]
        else:
            step, x = (h - t) // 2, (w - t) // 2
            boxes = [(x, 0), (x, 2 * step), (x, step)]
        results["imgs"] = np.concatenate([frames[:, y:y + t, x:x + t] for x, y in boxes])
        return results


@PIPELINES.register()
class Image2Array:
    """Frames to float32: ``[T, H, W, C]`` -> ``[T, C, H, W]`` (``data_format='cthw'``: ``[C, T, H, W]``)."""

    def __init__(self, transpose=True, data_format="tchw"):
        if data_format not in ("tchw", "cthw"):
            raise PipelineError(f"Image2Array data_format must be 'tchw' or 'cthw', got '{data_format}'")
        self.transpose, self.data_format = transpose, data_format

    def __call__(self, results):
        frames = as_frames(results["imgs"], "Image2Array")
        if not self.transpose:
            results["imgs"] = frames.astype(np.float32)
            return results
        axes = (0, 3, 1, 2) if self.data_format == "tchw" else (3, 0, 1, 2)
        view = frames.transpose(axes)
        out = np.empty(view.shape, dtype=np.float32)
        np.copyto(out, view, casting="unsafe")  # one pass: transpose and convert together
        results["imgs"] = out
        return results


@PIPELINES.register()
class Normalization:
    """``(x / 255 - mean) / std`` per channel, float32; ``mean``/``std`` reshaped to ``tensor_shape``.

    ``inplace=True`` (PaddleVideo's other form): ``[T, H, W, C]`` frames, ``(x - mean) / std`` without /255.
    """

    def __init__(self, mean, std, tensor_shape=(3, 1, 1), inplace=False):
        for name, value in (("mean", mean), ("std", std)):
            if not isinstance(value, (Sequence, np.ndarray)) or isinstance(value, str):
                raise PipelineError(f"Normalization {name} must be a list of numbers, got {value!r}")
        self.inplace = inplace
        shape = (1, -1) if inplace else list(tensor_shape)
        self.mean = np.array(mean).reshape(shape).astype(np.float32)
        self.std = np.array(std).reshape(shape).astype(np.float32)

    def __call__(self, results):
        imgs = results["imgs"]
        if self.inplace:
            # cv2.subtract / cv2.multiply with float64 scalars: double arithmetic, float32 after each step.
            frames = as_frames(imgs, "Normalization").astype(np.float32)
            shifted = (frames.astype(np.float64) - np.float64(self.mean)).astype(np.float32)
            scaled = shifted.astype(np.float64) * (1 / np.float64(self.std))
            results["imgs"] = scaled.astype(np.float32)
            return results
        imgs = np.asarray(imgs)
        norm = imgs / 255.0  # same operations, same order as PaddleVideo: identical float32 results
        norm -= self.mean
        norm /= self.std
        results["imgs"] = norm.astype(np.float32, copy=False)
        return results


class NormalizedArray:
    """``Image2Array`` followed by ``Normalization`` in one pass, bit-identical to running the two.

    For uint8 frames the normalised value of a pixel depends only on its byte and channel, so a
    256-entry float32 table per channel, computed with Normalization's own float32 operations, gives
    the same numbers as ``(float32(x) / 255 - mean) / std`` while touching the big output array once
    (about 4x faster for TenCrop's 250 crops). ``Compose`` uses it where the two ops are adjacent;
    other inputs (non-uint8) fall back to the two ops.
    """

    def __init__(self, to_array: Image2Array, normalize: Normalization):
        self.to_array, self.normalize = to_array, normalize
        levels = np.tile(np.arange(256, dtype=np.float32), (3, 1))
        mean, std = normalize.mean.reshape(-1, 1), normalize.std.reshape(-1, 1)
        table = levels / 255.0
        table -= mean
        table /= std
        self.table = np.ascontiguousarray(table, dtype=np.float32)  # [3, 256]

    @staticmethod
    def applies(first, second) -> bool:
        """True when ``first, second`` are an Image2Array (tchw) and a per-channel [3,1,1] Normalization."""
        return (type(first) is Image2Array and type(second) is Normalization and first.transpose
                and first.data_format == "tchw" and not second.inplace
                and second.mean.shape == (3, 1, 1) and second.std.shape == (3, 1, 1))

    def __call__(self, results):
        frames = results["imgs"]
        if not isinstance(frames, np.ndarray):
            frames = as_frames(frames, "Image2Array")
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
            return self.normalize(self.to_array(results))
        chw = np.ascontiguousarray(frames.transpose(0, 3, 1, 2))
        out = np.empty(chw.shape, dtype=np.float32)
        for c in range(3):
            lut = self.table[c]
            for i in range(chw.shape[0]):
                cv2.LUT(chw[i, c], lut, dst=out[i, c])
        results["imgs"] = out
        return results


def fuse_ops(ops):
    """Replace adjacent ``Image2Array, Normalization`` pairs by ``NormalizedArray`` (same output, faster)."""
    fused, i = [], 0
    while i < len(ops):
        if i + 1 < len(ops) and NormalizedArray.applies(ops[i], ops[i + 1]):
            fused.append(NormalizedArray(ops[i], ops[i + 1]))
            i += 2
        else:
            fused.append(ops[i])
            i += 1
    return fused
