"""Data loading: datasets, pipeline ops and the loader builders.

``build_pipeline(cfg.PIPELINE.train)``, ``build_dataset(cfg.DATASET.train, pipeline)`` and
``build_dataloader(dataset, batch_size, num_workers, shuffle, drop_last)``.
"""
import cv2

# OpenCV's thread pool is not fork-safe: a DataLoader worker forked while the pool's threads are
# live hangs in cv2.setNumThreads / cv2 calls. Our ops work frame by frame (parallelism comes from
# the workers), so OpenCV runs single-threaded in every paddlevideo process.
cv2.setNumThreads(1)

from . import dataset, pipelines  # noqa: E402,F401  (registers the datasets and ops)
from .builder import build_dataloader, build_dataset, build_pipeline  # noqa: E402
from .dataset import FrameDataset, ListFileError, SampleLoadError, VideoDataset  # noqa: E402
from .pipelines import Compose, DecodeError, MissingBackendError, PipelineError  # noqa: E402
from .registry import DATASETS, PIPELINES  # noqa: E402

__all__ = ["build_pipeline", "build_dataset", "build_dataloader", "FrameDataset", "VideoDataset",
           "Compose", "DecodeError", "MissingBackendError", "PipelineError", "ListFileError",
           "SampleLoadError", "DATASETS", "PIPELINES"]
