"""Model compression for deployment: post-training int8 quantization of an exported TSN
(``deploy/slim/quant_post_static.py``). Importing this package imports no Paddle."""
from .post_training import ALGOS, DEFAULT_ALGO, DEFAULT_VIEW_CHUNK, QuantizationError, QuantResult, quantize
from .settings import QuantSettings, quant_settings

__all__ = ["ALGOS", "DEFAULT_ALGO", "DEFAULT_VIEW_CHUNK", "QuantResult", "QuantSettings", "QuantizationError",
           "quant_settings", "quantize"]
