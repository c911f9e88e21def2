"""Frames to the model's float32 input: ``Image2Array``, ``Normalization`` and their fused form.

``Compose`` runs an adjacent ``Image2Array, Normalization`` pair as one ``NormalizedArray`` pass
(``fuse_ops``); the numbers are bit-identical to running the two ops.
"""
from collections.abc import Sequence

import cv2
import numpy as np

from ..registry import PIPELINES
from .base import PipelineOp
from .errors import PipelineError
from .frames import as_frames


@PIPELINES.register()
class Image2Array(PipelineOp):
    """Stack the frames as float32 and move channels first (``data_format='cthw'``: ``[C, T, H, W]``).

    Required keys: ``imgs``: ``[T, H, W, C]`` array (uint8 RGB) or list of T ``[H, W, C]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> float32 ``[T, C, H, W]`` (``transpose=False``: ``[T, H, W, C]``).
    """

    def __init__(self, transpose=True, data_format="tchw"):
        if data_format not in ("tchw", "cthw"):
            raise PipelineError(f"Image2Array data_format must be 'tchw' or 'cthw', got '{data_format}'")
        self.transpose, self.data_format = transpose, data_format

    def __call__(self, results):
        frames = as_frames(results.get("imgs"), "Image2Array")
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
class Normalization(PipelineOp):
    """``(x / 255 - mean) / std`` per channel in float32; ``mean``/``std`` reshaped to ``tensor_shape``.

    ``inplace=True`` (PaddleVideo's other form) works on ``[T, H, W, C]`` frames and skips the ``/ 255``.

    Required keys: ``imgs``: float32 ``[T, 3, H, W]`` from Image2Array (``inplace=True``: ``[T, H, W, 3]``).
    Added keys: none.
    Modified keys: ``imgs`` -> float32, same shape.
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
        imgs = results.get("imgs")
        if self.inplace:
            # cv2.subtract / cv2.multiply with float64 scalars: double arithmetic, float32 after each step.
            frames = as_frames(imgs, "Normalization").astype(np.float32)
            shifted = (frames.astype(np.float64) - np.float64(self.mean)).astype(np.float32)
            scaled = shifted.astype(np.float64) * (1 / np.float64(self.std))
            results["imgs"] = scaled.astype(np.float32)
            return results
        if imgs is None:
            as_frames(imgs, "Normalization")  # raises the missing-key error
        imgs = np.asarray(imgs)
        norm = imgs / 255.0  # same operations, same order as PaddleVideo: identical float32 results
        norm -= self.mean
        norm /= self.std
        results["imgs"] = norm.astype(np.float32, copy=False)
        return results


class NormalizedArray(PipelineOp):
    """``Image2Array`` followed by ``Normalization`` in one pass, bit-identical to running the two.

    For uint8 frames the normalised value of a pixel depends only on its byte and channel, so a
    256-entry float32 table per channel, computed with Normalization's own float32 operations, gives
    the same numbers as ``(float32(x) / 255 - mean) / std`` while touching the big output array once
    (about 4x faster for TenCrop's 250 crops on the AMD EPYC Zen 3, benchmarks/bench_pipeline.py). Other inputs (non-uint8) fall back to the two ops.

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> float32 ``[T, 3, H, W]``, normalised.
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
        frames = results.get("imgs")
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
