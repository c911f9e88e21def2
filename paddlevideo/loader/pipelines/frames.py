"""Helpers shared by the image transforms: the frames of ``results['imgs']`` as one array, resizing, checks."""
import cv2
import numpy as np

from .errors import PipelineError

BACKENDS = ("pillow", "cv2")


def as_frames(imgs, op: str) -> np.ndarray:
    """``imgs`` as one ``uint8 [T, H, W, C]`` array (lists of arrays or PIL images are stacked).

    ``None`` (no ``results['imgs']``) is an error naming ``op``.
    """
    if imgs is None:
        raise PipelineError(f"{op} needs results['imgs'] (the frames a Sampler decodes): put a decoder "
                            "and a Sampler before it")
    if isinstance(imgs, np.ndarray):
        arr = imgs
    else:
        if len(imgs) == 0:
            raise PipelineError(f"{op}: results['imgs'] is empty")
        arr = np.stack([np.asarray(img) for img in imgs])
    if arr.ndim != 4:
        raise PipelineError(f"{op}: expected frames [T, H, W, C], got an array of shape {arr.shape}")
    return arr


def check_backend(op: str, backend: str):
    if backend not in BACKENDS:
        raise PipelineError(f"{op} backend must be 'pillow' or 'cv2', got '{backend}'")


def check_size(op: str, name: str, value):
    """A size argument must be a positive integer: refused when the op is built, not blamed on a video later."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PipelineError(f"{op}: {name} must be a positive integer (pixels), got {value!r}")


def check_fits(op: str, w: int, h: int, tw: int, th: int):
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
