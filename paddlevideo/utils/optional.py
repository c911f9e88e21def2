"""Optional packages (decord, PyAV, paddle2onnx, onnxruntime): import them or say how to install them."""
import importlib


def import_optional(module: str, pip_name: str, purpose: str, error=ImportError, hint: str = ""):
    """Import ``module``; if it is missing raise ``error("<purpose> needs the <pip_name> package:
    pip install <pip_name><hint>")``, one line that names the fix."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise error(f"{purpose} needs the {pip_name} package: pip install {pip_name}{hint}") from None
