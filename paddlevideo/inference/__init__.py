"""Deployment: export a trained TSN, and predict with it (``Predictor``, tools/predict.py, deploy/paddle2onnx).

Along the data's way: ``model`` (what the model is: ``<name>.yml`` or a config's ``INFERENCE``, op specs,
class names) -> ``preprocess`` (which videos; one video -> the input array) -> ``predictors`` (the
backends: Paddle Inference, onnxruntime, dygraph; device and precision) -> ``api`` (``Predictor`` and the
predict loop). ``export`` writes what the others read. Everything imported here works without Paddle
(the ONNX path); Paddle is imported where a backend or export needs it.
"""
from .api import PredictOptions, Predictor, format_result, postprocess, softmax, write_json
from .model import InferenceError, ModelSetup, inference_op_specs, load_label_list, read_model_yml, \
    resolve_model_setup, yml_path
from .predictors import MissingDependencyError, UnsupportedDeviceError
from .preprocess import TSNPreprocessor, VideoReadError, build_preprocessor, collect_videos

__all__ = ["InferenceError", "MissingDependencyError", "ModelSetup", "PredictOptions", "Predictor",
           "TSNPreprocessor", "UnsupportedDeviceError", "VideoReadError", "build_preprocessor", "collect_videos",
           "format_result", "inference_op_specs", "load_label_list", "postprocess", "read_model_yml",
           "resolve_model_setup", "softmax", "write_json", "yml_path"]
