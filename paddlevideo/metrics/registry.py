from ..utils.registry import Registry

METRIC = Registry("metric")
