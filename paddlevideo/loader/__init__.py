"""Data loading: datasets, pipeline ops and the loader builders.

``build_pipeline(cfg.PIPELINE.train)``, ``build_dataset(cfg.DATASET.train, pipeline)`` and
``build_dataloader(dataset, batch_size, num_workers, shuffle, drop_last)``.

Nothing is imported eagerly. ``paddlevideo.loader.pipelines`` needs numpy and cv2 alone, and Python
runs this file before any subpackage, so the parts that need Paddle (the builders and the datasets)
are imported on first use of a name (PEP 562 ``__getattr__``), the datasets and ops registered first.
"""
import importlib

_LAZY = {
    "build_pipeline": ".builder", "build_dataset": ".builder", "build_dataloader": ".builder",
    "FrameDataset": ".dataset", "VideoDataset": ".dataset", "ListFileError": ".dataset",
    "SampleLoadError": ".dataset", "DATASETS": ".registry",
    "Compose": ".pipelines", "DecodeError": ".pipelines", "MissingBackendError": ".pipelines",
    "PipelineError": ".pipelines", "PIPELINES": ".registry",
    "dataset": ".dataset", "pipelines": ".pipelines", "builder": ".builder", "registry": ".registry",
}
_PADDLE_FREE = ("Compose", "DecodeError", "MissingBackendError", "PipelineError", "PIPELINES", "pipelines",
                "registry")

__all__ = ["build_pipeline", "build_dataset", "build_dataloader", "FrameDataset", "VideoDataset",
           "Compose", "DecodeError", "MissingBackendError", "PipelineError", "ListFileError",
           "SampleLoadError", "DATASETS", "PIPELINES"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module(".pipelines", __name__)  # registers the ops
    if name not in _PADDLE_FREE:
        importlib.import_module(".dataset", __name__)  # registers the datasets build_dataset looks up
    module = importlib.import_module(_LAZY[name], __name__)
    value = module if _LAZY[name] == "." + name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
