"""Datasets (registered in ``DATASETS`` on import)."""
from .base import BaseDataset, ListFileError, SampleLoadError
from .frame import FrameDataset
from .video import VideoDataset

__all__ = ["BaseDataset", "FrameDataset", "VideoDataset", "ListFileError", "SampleLoadError"]
