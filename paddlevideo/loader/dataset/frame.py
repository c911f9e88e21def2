"""``FrameDataset``: list lines ``<frame_dir> <num_frames> <label>`` over folders of extracted JPEGs."""
from ..registry import DATASETS
from .base import BaseDataset


@DATASETS.register()
class FrameDataset(BaseDataset):
    """Rawframe folders ``data_prefix/frame_dir/suffix.format(i)``, ``i`` = 1..num_frames."""

    FORMAT = "<frame_dir> <num_frames> <label>"

    def __init__(self, file_path, pipeline, num_retries=5, data_prefix=None, test_mode=False,
                 suffix="img_{:05}.jpg", num_classes=None):
        self.suffix = suffix
        super().__init__(file_path, pipeline, num_retries, data_prefix, test_mode, num_classes)

    def parse_line(self, fields, line_no, line, index):
        def error(why):
            return self.bad_line(line_no, line, why)
        if len(fields) != 3:
            raise error(f"{len(fields)} fields")
        frame_dir, frames_len, label = fields
        return dict(frame_dir=self._join(frame_dir), suffix=self.suffix,
                    frames_len=self.parse_int(frames_len, "num_frames", error),
                    labels=self.parse_int(label, "label", error))
