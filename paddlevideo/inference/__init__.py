"""Deployment helpers shared by tools/export_model.py, tools/predict.py and deploy/paddle2onnx.

Export writes ``<name>.yml`` beside the program (``model_yml``): the preprocessing as pipeline op
specs, which ``TSNPreprocessor`` builds with the data loader's own registry. Predictors wrap Paddle
Inference, onnxruntime and the dygraph model behind one ``run(batch) -> logits``. Everything imported
here works without Paddle (the ONNX path); Paddle is imported where a predictor or export needs it.
"""
from .errors import InferenceError, MissingDependencyError, UnsupportedDeviceError
from .inputs import collect_videos
from .model_setup import ModelSetup, resolve_model_setup
from .model_yml import read_model_yml, yml_path
from .op_specs import inference_op_specs
from .postprocess import format_result, load_label_list, postprocess, softmax, write_json
from .preprocess import TSNPreprocessor, build_preprocessor

__all__ = ["InferenceError", "MissingDependencyError", "UnsupportedDeviceError", "ModelSetup", "TSNPreprocessor",
           "build_preprocessor", "collect_videos", "format_result", "inference_op_specs", "load_label_list",
           "postprocess", "read_model_yml", "resolve_model_setup", "softmax", "write_json", "yml_path"]
