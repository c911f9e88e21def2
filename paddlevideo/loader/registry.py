"""The registries the loader builds from: datasets by ``format``, pipeline ops by name (numpy/cv2 only)."""
from ..utils.registry import Registry

DATASETS = Registry("dataset")
PIPELINES = Registry("pipeline op")
