"""What predict runs a model with: its name, preprocessing, top-k and class names, from ``X.yml`` or ``-c``.

Rule: ``X.yml`` beside the model file describes the model that was exported, so it wins. A ``-c``
config that disagrees with it gets one warning line naming the keys, and is otherwise unused for
preprocessing. Without ``X.yml`` (a model exported by PaddleVideo) the config's ``INFERENCE`` section
is used, as PaddleVideo does; with neither, one error says to pass ``-c``.
"""
import os
import sys
from dataclasses import dataclass

from ..utils.errors import UserError
from .errors import InferenceError
from .model_yml import label_names, read_model_yml, yml_path
from .op_specs import describe_key, inference_op_specs, inference_top_k, spec_differences
from .preprocess import TSNPreprocessor


@dataclass
class ModelSetup:
    model_name: str
    preprocessor: TSNPreprocessor
    top_k: int
    label_names: dict = None  # {index: name} from X.yml's label_list
    source: str = "the config's INFERENCE section"


def _from_config(cfg) -> ModelSetup:
    inference = cfg.get("INFERENCE")
    return ModelSetup(cfg.get("model_name"), TSNPreprocessor(inference_op_specs(inference)),
                      inference_top_k(inference))


def _from_yml(info: dict, path: str) -> ModelSetup:
    try:
        preprocessor = TSNPreprocessor(info["preprocess"])
    except UserError as err:  # an unknown op or argument, a missing decoder package
        raise InferenceError(f"{path}: preprocess: {err}") from None
    return ModelSetup(info["model_name"], preprocessor, info["top_k"], label_names(info), os.path.basename(path))


def disagreement_line(program: str, yml: str, info: dict, cfg):
    """One ``<program>: warning: ...`` line naming what ``cfg.INFERENCE`` sets otherwise than ``yml``, or None."""
    inference = cfg.get("INFERENCE")
    if inference is None:
        return None
    differences = spec_differences(info["preprocess"], inference_op_specs(inference))
    if info["top_k"] != inference_top_k(inference):
        differences.append(("top_k (INFERENCE.top_k)", info["top_k"], inference_top_k(inference)))
    if not differences:
        return None
    name = os.path.basename(yml)
    parts = [f"{describe_key(key)} is {ours} in {name} but {theirs} in the config"
             for key, ours, theirs in differences]
    return (f"{program}: warning: {'; '.join(parts)}: using {name}, the preprocessing the model was "
            "exported with")


def resolve_model_setup(config, overrides, model_file, program="predict.py", warn=None) -> ModelSetup:
    """``-c`` (or None), ``-o`` overrides and the model file -> ``ModelSetup``; errors are ``InferenceError``."""
    warn = warn or (lambda line: print(line, file=sys.stderr, flush=True))
    yml = yml_path(model_file) if model_file else None
    info = read_model_yml(yml) if yml and os.path.isfile(yml) else None
    if config is None:
        if overrides:
            raise InferenceError("-o/--override changes the -c config: pass -c CONFIG as well")
        if not model_file:
            raise InferenceError("pass --model_file <name>.pdmodel and --params_file <name>.pdiparams "
                                 "(tools/export_model.py writes them), or --onnx_file <name>.onnx")
        if not os.path.isfile(model_file):
            raise InferenceError(f"model file not found: {model_file}")
        if info is None:
            raise InferenceError(f"no {yml} beside the model (exported by PaddleVideo or without its "
                                 "description): pass -c CONFIG, the config the model was trained with")
        return _from_yml(info, yml)
    from ..utils.config import get_config
    cfg = get_config(config, overrides=overrides, show=False, mode="predict")
    if info is None:
        return _from_config(cfg)
    line = disagreement_line(program, yml, info, cfg)
    if line:
        warn(line)
    return _from_yml(info, yml)
