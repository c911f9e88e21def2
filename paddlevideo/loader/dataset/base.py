"""``BaseDataset``: a list file of samples, each run through the pipeline when it is asked for.

A record (one dict per list line) never holds decoded frames: decoding happens in the pipeline,
inside DataLoader workers. A sample whose data fails (a ``UserError`` such as ``DecodeError``, or an
``OSError``) is retried as PaddleVideo does, then reported by name; any other exception is a bug in an op
and propagates at once with its traceback.
"""
import logging
import os
import random

import numpy as np
import paddle

from ...utils.errors import UserError
from ...utils.text_files import read_lines
from ..pipelines.compose import Compose

logger = logging.getLogger(__name__)


class ListFileError(UserError, ValueError):
    """A dataset list file is missing or has a malformed line; the message names the file and line."""


class SampleLoadError(UserError, RuntimeError):
    """A sample (and its retries) could not be loaded; the message names every file tried."""


# What bad data raises: the pipeline's own errors (decode, missing frames, sizes) and file-system errors.
DATA_ERRORS = (UserError, OSError)


class BaseDataset(paddle.io.Dataset):
    """Samples from ``file_path``; item ``i`` is ``(imgs float32 [T*views, 3, H, W], int64 [label])``.

    ``test_mode`` (set by the test task, as PaddleVideo's ``cfg.DATASET.test.test_mode = True``)
    only changes the retry rule: training retries a failed sample with another random index (as
    PaddleVideo does); test mode retries the same sample, so a test set never silently swaps videos.
    ``num_classes`` (given by the tasks from ``MODEL.head``): a label outside ``[0, num_classes)`` is an
    error naming the list line, before any training or testing starts.
    """

    FORMAT = ""  # the expected list line, for error messages

    def __init__(self, file_path, pipeline, num_retries=5, data_prefix=None, test_mode=False,
                 num_classes=None):
        super().__init__()
        self.num_classes = num_classes
        self.file_path = file_path
        self.pipeline = pipeline if callable(pipeline) else Compose(pipeline)
        self.num_retries = max(1, int(num_retries))
        self.data_prefix = data_prefix
        self.test_mode = test_mode
        self.info = self.load_file()

    def parse_line(self, fields, line_no, line, index):
        """One record dict from the whitespace-split ``fields`` of 1-based list line ``line_no``
        (``index``: how many samples came before it)."""
        raise NotImplementedError

    def _join(self, path):
        return os.path.join(self.data_prefix, path) if self.data_prefix else path

    def bad_line(self, line_no, line, why):
        return ListFileError(f"{self.file_path}:{line_no}: {why}; expected '{self.FORMAT}', got {line!r}")

    def load_file(self):
        """Parse the list file into records; blank lines are skipped, anything malformed is an error."""
        if not os.path.isfile(self.file_path):
            raise ListFileError(f"dataset list file not found: {self.file_path} (expected lines '{self.FORMAT}')")
        info = []
        for line_no, line in enumerate(read_lines(self.file_path), start=1):
            fields = line.split()
            if fields:
                record = self.parse_line(fields, line_no, line, len(info))
                if self.num_classes is not None and not 0 <= record["labels"] < self.num_classes:
                    raise self.bad_line(line_no, line, f"label {record['labels']} is outside the model's "
                                                       f"{self.num_classes} classes (0 to {self.num_classes - 1})")
                info.append(record)
        if not info:
            raise ListFileError(f"dataset list file has no samples: {self.file_path} (expected lines '{self.FORMAT}')")
        return info

    @staticmethod
    def parse_int(text, what, make_error):
        try:
            value = int(text)
        except ValueError:
            raise make_error(f"{what} '{text}' is not an integer") from None
        if value < 0:
            raise make_error(f"{what} {value} is negative")
        return value

    def __len__(self):
        return len(self.info)

    def __getitem__(self, idx):
        tried, last_error = [], None
        for attempt in range(self.num_retries):
            record = dict(self.info[idx])
            name = record.get("filename") or record.get("frame_dir")
            try:
                results = self.pipeline(record)
            except DATA_ERRORS as err:  # corrupt or missing media: retry like PaddleVideo, then report
                if name not in tried:
                    tried.append(name)
                last_error = f"{type(err).__name__}: {err}"
                if attempt < self.num_retries - 1:
                    logger.warning(f"Error when loading {name} (try {attempt + 1}/{self.num_retries}): {err}; "
                                   "trying again" + ("" if self.test_mode else " with another sample"))
                if not self.test_mode:
                    idx = random.randint(0, len(self.info) - 1)
                continue
            return results["imgs"], np.array([results["labels"]], dtype=np.int64)
        raise SampleLoadError(f"could not load a sample after {self.num_retries} tries of "
                              f"{', '.join(map(str, tried))}; last error: {last_error}")
