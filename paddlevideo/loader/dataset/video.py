"""``VideoDataset``: list lines ``<path> <label>`` over video files."""
from ..registry import DATASETS
from .base import BaseDataset


@DATASETS.register()
class VideoDataset(BaseDataset):
    """Videos ``data_prefix/path + suffix``. A line with only a path gets its line index as label
    (PaddleVideo's inference lists)."""

    FORMAT = "<path> <label>"

    def __init__(self, file_path, pipeline, num_retries=5, data_prefix=None, test_mode=False, suffix="",
                 num_classes=None):
        self.suffix = suffix
        super().__init__(file_path, pipeline, num_retries, data_prefix, test_mode, num_classes)

    def parse_line(self, fields, line_no, line, index):
        def error(why):
            return self.bad_line(line_no, line, why)
        if len(fields) not in (1, 2):
            raise error(f"{len(fields)} fields")
        label = self.parse_int(fields[1], "label", error) if len(fields) == 2 else index
        return dict(filename=self._join(fields[0]) + self.suffix, labels=label)
