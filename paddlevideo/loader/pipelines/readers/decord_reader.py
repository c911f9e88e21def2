"""decord backend: random access by index, ``get_batch`` decodes only the asked frames."""
from ....utils.optional import import_optional
from ..errors import DecodeError, MissingBackendError
from .base import Reader, check_file


class DecordReader(Reader):
    """decord ``VideoReader`` (one thread): ``frames_len = len(vr)``, ``read`` = ``get_batch(indices)``."""

    def __init__(self, filename):
        decord = import_optional("decord", "decord", "VideoDecoder backend 'decord'", MissingBackendError)
        check_file(filename)
        self.filename = filename
        try:
            self.vr = decord.VideoReader(filename, num_threads=1)
        except Exception as err:  # decord raises its own DECORDError / RuntimeError types
            raise DecodeError(f"decord cannot open video {filename}: {err}") from None
        self.frames_len = len(self.vr)

    def read(self, indices):
        try:
            batch = self.vr.get_batch([int(i) for i in indices]).asnumpy()
        except Exception as err:
            raise DecodeError(f"decord cannot decode frames {list(indices)} of {self.filename}: {err}") from None
        return list(batch)

    def close(self):
        self.vr = None  # decord has no close(): dropping the last reference releases the file
