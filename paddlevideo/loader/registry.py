from ..utils.registry import Registry

DATASETS = Registry("dataset")
PIPELINES = Registry("pipeline op")
