"""Exceptions of the inference tools; each message names the file, flag or key and what was expected."""
from ..utils.errors import UserError


class InferenceError(UserError, ValueError):
    """Bad input to export or predict (missing/corrupt model file, shape mismatch, bad flag value)."""


class MissingDependencyError(InferenceError):
    """An optional package (paddle2onnx, onnxruntime) is not installed; the message gives the pip command."""


class UnsupportedDeviceError(InferenceError):
    """A flag asks for hardware support this Paddle build lacks (TensorRT without a TensorRT build)."""


def require_module(module: str, pip_name: str, purpose: str):
    """Import ``module`` or raise ``MissingDependencyError`` with the pip command for ``purpose``."""
    from ..utils.optional import import_optional
    return import_optional(module, pip_name, purpose, MissingDependencyError,
                           hint=" (or pip install -e .[onnx] for both paddle2onnx and onnxruntime)")
