"""Data loading: datasets, pipeline ops and the loader builders.

``build_pipeline(cfg.PIPELINE.train)``, ``build_dataset(cfg.DATASET.train, pipeline)`` and
``build_dataloader(dataset, batch_size, num_workers, shuffle, drop_last)``.
"""
from . import dataset, pipelines  # noqa: F401  (registers the datasets and ops)
from .builder import build_dataloader, build_dataset, build_pipeline
from .dataset import FrameDataset, ListFileError, SampleLoadError, VideoDataset
from .pipelines import Compose, DecodeError, MissingBackendError, PipelineError
from .registry import DATASETS, PIPELINES

__all__ = ["build_pipeline", "build_dataset", "build_dataloader", "FrameDataset", "VideoDataset",
           "Compose", "DecodeError", "MissingBackendError", "PipelineError", "ListFileError",
           "SampleLoadError", "DATASETS", "PIPELINES"]
