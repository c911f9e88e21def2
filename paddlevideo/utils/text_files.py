"""Reading the text files users write (list files, label lists, configs): UTF-8, with or without a BOM,
and one clear error naming the file and line when a byte is not UTF-8."""
import codecs

from .errors import UserError


class TextEncodingError(UserError, ValueError):
    """A text input is not UTF-8; the message names the file, the line and the offending byte."""


class TextReadError(UserError, OSError):
    """A text input cannot be read (missing, a folder, no permission); still an ``OSError`` for callers
    that handle those themselves."""


def read_text(path: str) -> str:
    """The whole file as text: UTF-8, a leading byte-order mark dropped (editors on Windows add one).
    Raises ``TextReadError`` or ``TextEncodingError``: one line naming the file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        error = TextReadError(f"cannot read {path}: {err.strerror or err}")
        error.errno = err.errno
        raise error from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise TextEncodingError(f"{path}:{line}: byte 0x{data[err.start]:02x} is not UTF-8; save the file as "
                                "UTF-8 (paths and class names may use any language, encoded as UTF-8)") from None


def read_lines(path: str) -> list:
    """``read_text(path).splitlines()``."""
    return read_text(path).splitlines()
