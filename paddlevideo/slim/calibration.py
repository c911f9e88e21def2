"""Calibration feeds: the config's ``DATASET.quant`` clips, through the project's own dataset and pipeline,
cut into chunks of views.

The exported program takes ``[videos, views, 3, H, W]`` with a free view dimension, and the quantizer keeps
every activation of one feed in memory (about 130 MB per 224x224 view for ResNet-50): a whole TenCrop video
(250 views) needs over 30 GB, a chunk of 10 views about 2.3 GB. Activation statistics are per frame, so
chunking changes nothing but the peak.
"""
import math

import numpy as np
from paddle.io import Subset

from ..utils.config import ConfigError


def spread_indices(total: int, wanted: int) -> list:
    """``wanted`` clip indices spread evenly over a list of ``total`` (all of them when ``wanted >= total``).

    List files are usually sorted by class: the first N clips would all be one class, a poor calibration.
    """
    if wanted >= total:
        return list(range(total))
    return sorted({int(round(i * (total - 1) / max(wanted - 1, 1))) for i in range(wanted)})


class CalibrationFeeds:
    """Callable yielding ``{input_name: float32 [batch, <=view_chunk, 3, H, W]}`` over ``batch_size x
    batch_nums`` clips spread over the list; ``len()`` is the number of feeds. Iterable again (KL reads the
    data twice)."""

    def __init__(self, settings, input_name: str, view_chunk: int, place=None):
        from ..loader import build_dataloader, build_dataset
        self.input_name, self.view_chunk = input_name, int(view_chunk)
        self.dataset = build_dataset(settings.dataset, settings.pipeline)
        if len(self.dataset) == 0:
            raise ConfigError(f"{settings.config_path}: DATASET.quant.file_path "
                              f"{settings.dataset.get('file_path')!r} lists no clips")
        self.indices = spread_indices(len(self.dataset), settings.batch_size * settings.batch_nums)
        self.loader = build_dataloader(Subset(self.dataset, self.indices), batch_size=settings.batch_size,
                                       num_workers=settings.num_workers, shuffle=False, drop_last=False,
                                       places=place)
        self.batches = len(self.loader)
        self.clip_shape = tuple(np.asarray(self.dataset[self.indices[0]][0]).shape)  # (views, 3, H, W)
        self.views = len(self.indices) * self.clip_shape[0]

    def __len__(self):
        return self.batches * math.ceil(self.clip_shape[0] / self.view_chunk)

    def __call__(self):
        for imgs, _labels in self.loader:
            imgs = np.asarray(imgs, dtype=np.float32)
            for start in range(0, imgs.shape[1], self.view_chunk):
                yield {self.input_name: np.ascontiguousarray(imgs[:, start:start + self.view_chunk])}
