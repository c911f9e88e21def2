"""Exceptions raised by the data pipeline; each message names the file (or op) and what was expected."""
from ...utils.errors import UserError


class PipelineError(UserError, ValueError):
    """A pipeline op got input it cannot handle (wrong shape, image smaller than the crop, ...)."""


class DecodeError(UserError, RuntimeError):
    """A video, frame folder or frame file could not be read; the message names it."""


class MissingBackendError(UserError, ImportError):
    """A decoder backend's Python package is not installed; the message gives the pip command."""
