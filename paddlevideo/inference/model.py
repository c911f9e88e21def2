"""The model description: what an exported TSN is run with, from ``<name>.yml`` or a config's ``INFERENCE``.

``<name>.yml`` is what an export writes beside ``<name>.pdmodel`` (PaddleDetection's infer_cfg.yml)::

    model_name: TSN
    input_shape: [null, 250, 3, 224, 224]
    num_classes: 400
    top_k: 1
    preprocess:                      # op specs, built by Compose through the PIPELINES registry
    - VideoDecoder: {}
    - Sampler: {num_seg: 25, seg_len: 1, valid_mode: true, select_left: true}
    - Scale: {short_size: 256, fixed_ratio: true, do_round: true, backend: cv2}
    - TenCrop: {target_size: 224}
    - Image2Array: {}
    - Normalization: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
    label_list: [abseiling, air drumming, ...]   # only when exported with --label_list

An op spec is what a config's ``transform`` list holds, ``{OpName: {kwargs}}``. ``inference_op_specs``
writes PaddleVideo's ``ppTSN_Inference_helper`` that way. Rule for predict: ``X.yml`` beside the model
describes the model that was exported, so it wins; a ``-c`` config that disagrees gets one warning line
naming the keys. Without ``X.yml`` (a model exported by PaddleVideo) the config's ``INFERENCE`` section
is used, as PaddleVideo does; with neither, one error says to pass ``-c``.
"""
import os
import sys
from dataclasses import dataclass

import yaml

from ..utils.atomic import atomic_write
from ..utils.config_check import check_op_spec, inference_settings
from ..utils.errors import ConfigError, UserError
from ..utils.spec_checks import op_spec_items
from ..utils.text_files import read_lines, read_text


class InferenceError(UserError, ValueError):
    """Bad input to export or predict (missing/corrupt model file, shape mismatch, bad flag value)."""


NO_MODEL_FILES = ("pass --model_file <name>.pdmodel and --params_file <name>.pdiparams "
                  "(tools/export_model.py writes them), or --onnx_file <name>.onnx")

# ---------------------------------------------------------------- INFERENCE section -> op specs
# "Op.param" of a spec -> the INFERENCE key it comes from, to name both in messages.
INFERENCE_KEY_OF = {"VideoDecoder.backend": "backend", "Sampler.num_seg": "num_seg", "Sampler.seg_len": "seg_len",
                    "Scale.short_size": "short_size", "TenCrop.target_size": "target_size",
                    "Normalization.mean": "mean", "Normalization.std": "std"}


def check_inference_section(inference_cfg) -> dict:
    """``INFERENCE`` -> plain ``{key: value}`` with the schema's defaults; an unknown key or a bad value raises
    ``InferenceError`` (the keys, their bounds and defaults are declared once, in ``utils/config_schema``)."""
    try:
        return inference_settings(dict(inference_cfg) if hasattr(inference_cfg, "items") else inference_cfg)
    except ConfigError as err:
        raise InferenceError(str(err)) from None


def inference_op_specs(inference_cfg) -> list:
    """``INFERENCE`` -> ``[{OpName: {kwargs}}, ...]``: decode, sample, scale (4:3), TenCrop, to array, normalise.

    The decoder's ``backend`` is written only when ``INFERENCE.backend`` sets it: which decoder is
    installed is a property of the machine that predicts, not of the model.
    """
    inference = check_inference_section(inference_cfg)
    decoder = {"backend": str(inference["backend"])} if inference.get("backend") else {}
    return [
        {"VideoDecoder": decoder},
        {"Sampler": {"num_seg": inference["num_seg"], "seg_len": inference["seg_len"], "valid_mode": True,
                     "select_left": True}},
        {"Scale": {"short_size": inference["short_size"], "fixed_ratio": True, "do_round": True, "backend": "cv2"}},
        {"TenCrop": {"target_size": inference["target_size"]}},
        {"Image2Array": {}},
        {"Normalization": {"mean": [float(v) for v in inference["mean"]], "std": [float(v) for v in inference["std"]]}},
    ]


def inference_top_k(inference_cfg) -> int:
    return check_inference_section(inference_cfg)["top_k"]


def spec_items(spec, where: str = "an op spec") -> tuple:
    """``{OpName: kwargs | None}`` -> ``(OpName, {kwargs})``; anything else raises ``InferenceError``."""
    return op_spec_items(spec, where, error=InferenceError)


def spec_differences(ours, theirs) -> list:
    """``[(key, our value, their value)]`` where two spec lists differ; ``key`` is ``Op.param`` (or ``ops``)."""
    ours, theirs = [spec_items(s) for s in ours], [spec_items(s) for s in theirs]
    if [name for name, _ in ours] != [name for name, _ in theirs]:
        return [("ops", [name for name, _ in ours], [name for name, _ in theirs])]
    differences = []
    for (name, a), (_, b) in zip(ours, theirs):
        for param in list(a) + [p for p in b if p not in a]:
            if a.get(param) != b.get(param):
                differences.append((f"{name}.{param}", a.get(param), b.get(param)))
    return differences


def describe_key(key: str) -> str:
    """``Sampler.num_seg`` -> ``Sampler.num_seg (INFERENCE.num_seg)`` when an INFERENCE key sets it."""
    source = INFERENCE_KEY_OF.get(key)
    return f"{key} (INFERENCE.{source})" if source else key


# ---------------------------------------------------------------- <name>.yml
REQUIRED_KEYS = ("model_name", "input_shape", "num_classes", "top_k", "preprocess")
OPTIONAL_KEYS = ("label_list", "quantized")
MAX_CLASSES = 1_000_000


def yml_path(model_file: str) -> str:
    """``X.pdmodel`` / ``X.json`` / ``X.onnx`` -> ``X.yml``."""
    return os.path.splitext(model_file)[0] + ".yml"


def describe_export(name: str, input_shape, num_classes: int, specs, top_k: int, label_list=None) -> dict:
    """The ``<name>.yml`` content as plain Python types (``label_list``: names in class order, or None)."""
    info = {"model_name": str(name), "input_shape": [None if d is None else int(d) for d in input_shape],
            "num_classes": int(num_classes), "top_k": int(top_k),
            "preprocess": [{op: dict(kwargs)} for op, kwargs in map(spec_items, specs)]}
    if label_list is not None:
        info["label_list"] = [str(label) for label in label_list]
    return check_description(info, "the export description")


def write_model_yml(path: str, info: dict) -> str:
    with atomic_write(path) as (f, _):
        yaml.safe_dump(info, f, sort_keys=False, default_flow_style=None, allow_unicode=True, width=120)
    return path


def _check_op_values(where: str, specs):
    """Each preprocessing op checked as a config's ``transform`` item is: sizes within the schema's bounds,
    ``Normalization.mean``/``std`` of 3 numbers (a huge crop or a short mean is refused)."""
    for spec in specs:
        try:
            check_op_spec(spec, f"{where}: preprocess")
        except ConfigError as err:
            raise InferenceError(str(err)) from None


def check_description(info, where: str) -> dict:
    """Validate a loaded description; every problem raises ``InferenceError`` naming ``where`` and the key."""
    if not isinstance(info, dict):
        raise InferenceError(f"{where} must hold a mapping with keys {', '.join(REQUIRED_KEYS)}")
    for key in info:
        if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
            raise InferenceError(f"{where}: unknown key '{key}'; keys: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in info:
            raise InferenceError(f"{where} has no '{key}'")
    if not isinstance(info["model_name"], str) or not info["model_name"]:
        raise InferenceError(f"{where}: model_name must be a name, got {info['model_name']!r}")
    shape = info["input_shape"]
    if not isinstance(shape, list) or len(shape) != 5 or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in shape):
        raise InferenceError(f"{where}: input_shape must be [N, frames, 3, H, W] (N may be null), got {shape!r}")
    for key in ("num_classes", "top_k"):
        if not isinstance(info[key], int) or isinstance(info[key], bool) or not 1 <= info[key] <= MAX_CLASSES:
            raise InferenceError(f"{where}: {key} must be an integer in [1, {MAX_CLASSES}], got {info[key]!r}")
    if not isinstance(info["preprocess"], list) or not info["preprocess"]:
        raise InferenceError(f"{where}: preprocess must be a list of op specs {{OpName: {{kwargs}}}}")
    _check_op_values(where, info["preprocess"])
    labels = info.get("label_list")
    if labels is not None and (not isinstance(labels, list) or len(labels) != info["num_classes"]
                               or not all(isinstance(label, (str, int, float)) for label in labels)):
        count = len(labels) if isinstance(labels, list) else type(labels).__name__
        raise InferenceError(f"{where}: label_list must name the {info['num_classes']} classes in order, "
                             f"got {count}")
    if "quantized" in info and info["quantized"] != "int8":
        raise InferenceError(f"{where}: quantized must be int8, got {info['quantized']!r}")
    return info


def read_model_yml(path: str) -> dict:
    """Load ``path`` through the configs' safe YAML loader (UTF-8, no duplicate keys, no alias bombs or
    cycles) and validate it; every problem raises ``InferenceError`` naming the file."""
    from ..utils.yaml_loading import YamlProblem, load_yaml
    try:
        text = read_text(path)
    except OSError as err:
        raise InferenceError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        info = load_yaml(text)
    except YamlProblem as err:
        raise InferenceError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        raise InferenceError(f"{path} is not valid YAML: {' '.join(str(err).split())[:200]}") from None
    return check_description(info, path)


# ---------------------------------------------------------------- class names
def label_names(info: dict):
    """``{index: name}`` from a description's ``label_list``, or None."""
    labels = info.get("label_list")
    return None if labels is None else {i: str(name) for i, name in enumerate(labels)}


def load_label_list(path: str) -> dict:
    """A Kinetics-style label file (``<index> <name>`` per line) -> ``{index: name}``."""
    if not os.path.isfile(path):
        raise InferenceError(f"label list not found: {path}")
    names, first_line = {}, {}
    for lineno, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        fields = line.split(maxsplit=1)
        if len(fields) != 2 or not fields[0].lstrip("-").isdigit():
            raise InferenceError(f"{path} line {lineno}: expected '<class index> <name>', got {line.strip()!r}")
        index = int(fields[0])
        if index in first_line:  # as data/k400/build_file_list.py refuses it: which name would be meant?
            raise InferenceError(f"{path} line {lineno}: class index {index} is given twice (first on line "
                                 f"{first_line[index]}); expected one '<index> <name>' line per class")
        names[index], first_line[index] = fields[1].strip(), lineno
    return names


def ordered_labels(names: dict, num_classes: int, source: str) -> list:
    """``{index: name}`` from a label file -> names of classes ``0..num_classes-1``; gaps raise ``InferenceError``."""
    missing = [i for i in range(num_classes) if i not in names]
    extra = sorted(i for i in names if not 0 <= i < num_classes)
    if missing or extra:
        which = f"lacks class {missing[0]}" if missing else f"names class {extra[0]}"
        raise InferenceError(f"label list {source} {which}, but the model has {num_classes} classes "
                             f"(expected '<index> <name>' for 0..{num_classes - 1})")
    return [names[i] for i in range(num_classes)]


# ---------------------------------------------------------------- what predict runs a model with
@dataclass(frozen=True)
class ModelSetup:
    """The model's name, preprocessing op specs, default top-k and class names, and where they came from."""
    model_name: str
    specs: tuple
    top_k: int
    label_names: dict = None    # {index: name} from X.yml's label_list
    source: str = "the config's INFERENCE section"
    num_classes: int = None     # known from X.yml
    quantized: str = None       # "int8" for a model written by deploy/slim/quant_post_static.py
    yml: str = None             # the X.yml read, or None


def _from_config(cfg) -> ModelSetup:
    inference = cfg.get("INFERENCE")
    return ModelSetup(cfg.get("model_name"), tuple(inference_op_specs(inference)), inference_top_k(inference))


def _from_yml(info: dict, path: str) -> ModelSetup:
    return ModelSetup(info["model_name"], tuple(info["preprocess"]), info["top_k"], label_names(info),
                      os.path.basename(path), info["num_classes"], info.get("quantized"), path)


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
            raise InferenceError(NO_MODEL_FILES)
        if not os.path.isfile(model_file):
            raise InferenceError(f"model file not found: {model_file}")
        if info is None:
            raise InferenceError(f"no {yml} beside the model (exported by PaddleVideo or without its "
                                 "description): pass -c CONFIG, the config the model was trained with")
        return _from_yml(info, yml)
    from ..utils.config import get_config
    cfg = get_config(config, overrides=list(overrides), show=False, mode="predict")
    if info is None:
        return _from_config(cfg)
    line = disagreement_line(program, yml, info, cfg)
    if line:
        warn(line)
    return _from_yml(info, yml)
