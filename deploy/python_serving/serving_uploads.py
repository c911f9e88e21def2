"""Uploaded videos: streamed from the request body into a private folder, with a size limit.

The multipart body is parsed as it arrives (python-multipart's streaming parser), so an upload never sits
in memory and one that grows past the limit is stopped at that byte. The video part is written to a new
file (mode 0600) in a folder only this process can read (mode 0700); the caller deletes it after the
request. The client's file name is kept for the reply and the log only: the service never opens a path
that a client chose, and the stored file's suffix is a video suffix (never ``.txt``/``.list``, which the
predictor would read as a list of paths).
"""
import os
import re
import shutil
import tempfile
from dataclasses import dataclass

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

FIELD = "file"
# Suffixes a stored upload may keep (the predictor's video suffixes); any other name gets DEFAULT_SUFFIX.
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".flv", ".mpg", ".mpeg", ".m4v")
DEFAULT_SUFFIX = ".mp4"  # decoders probe the content; the suffix only has to be a video one
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, part headers and small fields around the video


class UploadError(Exception):
    """The request body is not a usable upload; ``status`` is the HTTP status to answer (413, 422, or 400
    for a client that left mid-upload)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    path: str  # the stored file in the private folder
    name: str  # the client's file name (base name only), for the reply and the log
    size: int


def make_private_folder(parent=None) -> str:
    """A new folder readable by this user only (``mkdtemp``: mode 0700), inside ``parent`` or the system's."""
    return tempfile.mkdtemp(prefix="paddlevideo-serve-", dir=parent)


def remove_folder(folder: str):
    shutil.rmtree(folder, ignore_errors=True)


def remove_file(path: str):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def client_name(raw: bytes) -> str:
    """The base name of a client's file name (both separators stripped), printable, at most 200 chars."""
    name = raw.decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "?", name).strip()
    return name[:200] or "upload"


def stored_suffix(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return suffix if suffix in VIDEO_SUFFIXES else DEFAULT_SUFFIX


def check_declared_size(content_length, max_bytes: int):
    """413 before reading anything when the declared body is larger than the limit allows."""
    if content_length is None:
        return
    try:
        declared = int(content_length)
    except ValueError:
        raise UploadError(422, f"Content-Length {content_length!r} is not a number") from None
    if declared > max_bytes + FORM_OVERHEAD:
        raise UploadError(413, too_large(max_bytes))


def too_large(max_bytes: int) -> str:
    return f"upload larger than the limit of {max_bytes / 2**20:g} MB (--max_upload_mb)"


class _VideoPartWriter:
    """Parser callbacks: the first part named ``file`` goes to a file in ``folder``; other parts are skipped."""

    def __init__(self, folder: str, max_bytes: int):
        self.folder, self.max_bytes = folder, max_bytes
        self.upload = None
        self._file = None
        self._headers = {}
        self._field = self._value = b""
        self._other_bytes = 0

    def callbacks(self) -> dict:
        return {"on_part_begin": self._part_begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
                "on_part_end": self._part_end}

    def _part_begin(self):
        self._headers, self._field, self._value = {}, b"", b""

    def _header_field(self, data, start, end):
        self._field += data[start:end]

    def _header_value(self, data, start, end):
        self._value += data[start:end]

    def _header_end(self):
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_finished(self):
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if params.get(b"name") == FIELD.encode() and self.upload is None:
            name = client_name(params.get(b"filename", b""))
            fd, path = tempfile.mkstemp(suffix=stored_suffix(name), dir=self.folder)  # mode 0600
            self._file = os.fdopen(fd, "wb")
            self.upload = Upload(path=path, name=name, size=0)

    def _part_data(self, data, start, end):
        if self._file is not None:
            self.upload.size += end - start
            if self.upload.size > self.max_bytes:
                raise UploadError(413, too_large(self.max_bytes))
            self._file.write(data[start:end])
        else:
            self._other_bytes += end - start
            if self._other_bytes > FORM_OVERHEAD:
                raise UploadError(413, f"form fields other than '{FIELD}' exceed {FORM_OVERHEAD // 1024} KB")

    def _part_end(self):
        self.close_file()

    def close_file(self):
        if self._file is not None:
            self._file.close()
            self._file = None


async def receive_upload(request, folder: str, max_bytes: int, on_created) -> Upload:
    """Stream ``request``'s multipart body; the ``file`` part lands in ``folder``. ``on_created(path)`` is
    called as soon as the file exists (the caller deletes it whatever happens next). Raises ``UploadError``."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadError(422, f"expected a multipart/form-data body with the video in a field named '{FIELD}'")
    writer = _VideoPartWriter(folder, max_bytes)
    parser = MultipartParser(boundary, writer.callbacks())
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes + FORM_OVERHEAD:
                raise UploadError(413, too_large(max_bytes))
            had_file = writer.upload is not None
            try:
                parser.write(chunk)
            finally:
                if not had_file and writer.upload is not None:
                    on_created(writer.upload.path)
        parser.finalize()
    except UploadError:
        raise
    except ClientDisconnect:
        raise UploadError(400, "the client closed the connection during the upload") from None
    except Exception as err:  # the multipart parser's errors: a malformed body
        raise UploadError(422, f"malformed multipart body: {' '.join(str(err).split())}") from None
    finally:
        writer.close_file()
    if writer.upload is None:
        raise UploadError(422, f"no field named '{FIELD}' in the form: send the video as {FIELD}=@video.mp4")
    return writer.upload
