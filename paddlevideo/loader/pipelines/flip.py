"""``RandomFlip``: mirror a whole clip horizontally with probability ``p`` (one draw per clip)."""
import random

import numpy as np

from ..registry import PIPELINES
from .base import PipelineOp
from .frames import as_frames


@PIPELINES.register()
class RandomFlip(PipelineOp):
    """Flip every frame horizontally when one ``random.random()`` per clip is ``< p`` (PaddleVideo's draw).

    Required keys: ``imgs``: uint8 RGB ``[T, H, W, 3]`` array or list of T ``[H, W, 3]`` arrays.
    Added keys: none.
    Modified keys: ``imgs`` -> ``[T, H, W, 3]`` array, same dtype (flipped or as it was).
    """

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, results):
        frames = as_frames(results.get("imgs"), "RandomFlip")
        if random.random() < self.p:
            frames = np.ascontiguousarray(frames[:, :, ::-1])
        results["imgs"] = frames
        return results
