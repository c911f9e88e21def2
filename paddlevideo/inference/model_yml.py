"""``<name>.yml``: the description an export writes beside ``<name>.pdmodel`` (PaddleDetection's infer_cfg.yml).

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
"""
import os

import yaml

from ..utils.atomic import atomic_write
from .errors import InferenceError
from .op_specs import spec_items

REQUIRED_KEYS = ("model_name", "input_shape", "num_classes", "top_k", "preprocess")
OPTIONAL_KEYS = ("label_list",)


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
    shape = info["input_shape"]
    if not isinstance(shape, list) or len(shape) != 5 or not all(d is None or isinstance(d, int) for d in shape):
        raise InferenceError(f"{where}: input_shape must be [N, frames, 3, H, W] (N may be null), got {shape!r}")
    for key in ("num_classes", "top_k"):
        if not isinstance(info[key], int) or isinstance(info[key], bool) or info[key] < 1:
            raise InferenceError(f"{where}: {key} must be a positive integer, got {info[key]!r}")
    if not isinstance(info["preprocess"], list) or not info["preprocess"]:
        raise InferenceError(f"{where}: preprocess must be a list of op specs {{OpName: {{kwargs}}}}")
    for spec in info["preprocess"]:
        spec_items(spec)
    labels = info.get("label_list")
    if labels is not None and (not isinstance(labels, list) or len(labels) != info["num_classes"]):
        count = len(labels) if isinstance(labels, list) else type(labels).__name__
        raise InferenceError(f"{where}: label_list must name the {info['num_classes']} classes in order, "
                             f"got {count}")
    return info


def read_model_yml(path: str) -> dict:
    """Load and validate ``path``; a missing file, bad YAML or a bad key raises ``InferenceError``."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            info = yaml.safe_load(f)
    except OSError as err:
        raise InferenceError(f"cannot read {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise InferenceError(f"{path} is not valid YAML: {' '.join(str(err).split())[:200]}") from None
    return check_description(info, path)


def label_names(info: dict):
    """``{index: name}`` from a description's ``label_list``, or None."""
    labels = info.get("label_list")
    return None if labels is None else dict(enumerate(labels))


def ordered_labels(names: dict, num_classes: int, source: str) -> list:
    """``{index: name}`` from a label file -> names of classes ``0..num_classes-1``; gaps raise ``InferenceError``."""
    missing = [i for i in range(num_classes) if i not in names]
    extra = sorted(i for i in names if not 0 <= i < num_classes)
    if missing or extra:
        which = f"lacks class {missing[0]}" if missing else f"names class {extra[0]}"
        raise InferenceError(f"label list {source} {which}, but the model has {num_classes} classes "
                             f"(expected '<index> <name>' for 0..{num_classes - 1})")
    return [names[i] for i in range(num_classes)]
