"""Deployment helpers shared by tools/export_model.py, tools/predict.py and deploy/paddle2onnx.

Preprocessing is built from the data loader's own ops (``TSNPreprocessor``); predictors wrap Paddle
Inference, onnxruntime and the dygraph model behind one ``run(batch) -> logits``.
"""
from .errors import InferenceError, MissingDependencyError, UnsupportedDeviceError
from .inputs import collect_videos
from .postprocess import format_result, load_label_list, postprocess, softmax, write_json
from .preprocess import TSNPreprocessor, build_preprocessor

__all__ = ["InferenceError", "MissingDependencyError", "UnsupportedDeviceError", "TSNPreprocessor",
           "build_preprocessor", "collect_videos", "format_result", "load_label_list", "postprocess",
           "softmax", "write_json"]
