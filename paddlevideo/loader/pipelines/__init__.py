"""Pipeline ops (decoders, sampler, transforms), registered in ``PIPELINES`` on import."""
from .augmentations import (CenterCrop, Image2Array, MultiScaleCrop, Normalization, RandomCrop, RandomFlip,
                            Scale, TenCrop, ThreeCrop)
from .base import PipelineOp  # noqa: F401  (base class for custom ops)
from .compose import Compose
from .decode import FrameDecoder, VideoDecoder
from .errors import DecodeError, MissingBackendError, PipelineError
from .sample import Sampler

__all__ = ["VideoDecoder", "FrameDecoder", "Sampler", "Scale", "MultiScaleCrop", "RandomCrop", "RandomFlip",
           "CenterCrop", "ThreeCrop", "TenCrop", "Image2Array", "Normalization", "Compose",
           "DecodeError", "MissingBackendError", "PipelineError"]
