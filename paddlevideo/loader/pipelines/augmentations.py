"""The image transforms of the TSN pipelines, gathered under PaddleVideo's module name.

Each op lives in a module of its own kind; importing this module registers all of them:

- ``scale``: ``Scale`` (short side to a length)
- ``random_crops``: ``MultiScaleCrop``, ``RandomCrop`` (training)
- ``fixed_crops``: ``CenterCrop``, ``TenCrop``, ``ThreeCrop`` (validation and test)
- ``flip``: ``RandomFlip``
- ``normalize``: ``Image2Array``, ``Normalization`` and their fused one-pass form

The ops work on numpy arrays with cv2 (PIL only for ``backend: pillow``); their geometry, float
arithmetic and random draws are PaddleVideo's, so the same seeds give the same crops and numbers.
"""
from .fixed_crops import CenterCrop, TenCrop, ThreeCrop, ten_crop_offsets
from .flip import RandomFlip
from .frames import as_frames, resize_frames
from .normalize import Image2Array, NormalizedArray, Normalization, fuse_ops
from .random_crops import MultiScaleCrop, RandomCrop, multi_scale_crop_box
from .scale import Scale, scale_size

__all__ = ["Scale", "MultiScaleCrop", "RandomCrop", "RandomFlip", "CenterCrop", "TenCrop", "ThreeCrop",
           "Image2Array", "Normalization", "NormalizedArray", "fuse_ops", "scale_size", "multi_scale_crop_box",
           "ten_crop_offsets", "as_frames", "resize_frames"]
