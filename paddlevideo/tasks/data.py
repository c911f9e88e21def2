"""Datasets and loaders for one split (train/valid/test) of a config, as PaddleVideo builds them."""
import copy

from ..loader import build_dataloader, build_dataset, build_pipeline
from ..utils.config_check import setting

_SPLITS = {"train": ("batch_size", True, True),
           "valid": ("valid_batch_size", False, False),
           "test": ("test_batch_size", False, False)}


def split_batch_size(cfg, split: str) -> int:
    """Per-process batch size of ``split``: ``DATASET.batch_size`` / ``valid_batch_size`` / ``test_batch_size``."""
    return int(setting(cfg, f"DATASET.{_SPLITS[split][0]}"))


def split_num_workers(cfg, split: str) -> int:
    """Loader workers of ``split``: ``DATASET.num_workers`` / ``valid_num_workers`` / ``test_num_workers``."""
    key = {"train": "num_workers", "valid": "valid_num_workers", "test": "test_num_workers"}[split]
    return int(setting(cfg, f"DATASET.{key}"))


def build_split(cfg, split: str, seed=None):
    """``(dataset, loader)`` for ``split``; only the test dataset is built in test mode.

    Train: shuffled, last incomplete batch dropped; valid/test: in order, nothing dropped.
    Validation keeps PaddleVideo's valid mode (``tasks/train.py`` builds it like the train set): a
    clip that fails to load is replaced by a random other clip, with a warning naming the file.
    ``--test`` retries the same clip, so the test score is over the listed clips.
    """
    dataset_cfg = copy.deepcopy(cfg.DATASET[split])
    if split == "test":
        dataset_cfg["test_mode"] = True
    head = cfg.get("MODEL", {}).get("head") or {}
    if "num_classes" in head and "num_classes" not in dataset_cfg:
        dataset_cfg["num_classes"] = int(head["num_classes"])
    pipeline = build_pipeline(cfg.PIPELINE[split])
    dataset = build_dataset(dataset_cfg, pipeline)
    _, shuffle, drop_last = _SPLITS[split]
    loader = build_dataloader(dataset, batch_size=split_batch_size(cfg, split),
                              num_workers=split_num_workers(cfg, split), shuffle=shuffle,
                              drop_last=drop_last, seed=seed)
    return dataset, loader
