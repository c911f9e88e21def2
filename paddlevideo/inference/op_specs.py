"""The test-time preprocessing of an ``INFERENCE`` config section, written as pipeline op specs.

An op spec is what a config's ``transform`` list holds, ``{OpName: {kwargs}}``; ``Compose`` builds a
list of them through the ``PIPELINES`` registry. ``inference_op_specs`` writes PaddleVideo's
``ppTSN_Inference_helper`` that way; export stores the list in ``<name>.yml`` and predict builds it.
"""
from .errors import InferenceError

SUPPORTED_HELPERS = ("ppTSN_Inference_helper",)
INFERENCE_KEYS = ("num_seg", "seg_len", "short_size", "target_size", "top_k", "backend", "mean", "std")
POSITIVE_INT_KEYS = ("num_seg", "seg_len", "short_size", "target_size", "top_k")
DEFAULTS = {"num_seg": 25, "seg_len": 1, "short_size": 256, "target_size": 224, "top_k": 1,
            "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}

# "Op.param" of a spec -> the INFERENCE key it comes from, to name both in messages.
INFERENCE_KEY_OF = {"VideoDecoder.backend": "backend", "Sampler.num_seg": "num_seg", "Sampler.seg_len": "seg_len",
                    "Scale.short_size": "short_size", "TenCrop.target_size": "target_size",
                    "Normalization.mean": "mean", "Normalization.std": "std"}


def check_inference_section(inference_cfg) -> dict:
    """``INFERENCE`` -> plain ``{key: value}`` with defaults; unknown keys and bad values raise ``InferenceError``."""
    if inference_cfg is None or not hasattr(inference_cfg, "items"):
        raise InferenceError("the config has no INFERENCE section (expected e.g. "
                             "{name: ppTSN_Inference_helper, num_seg: 25, target_size: 224})")
    kwargs = dict(inference_cfg)
    name = kwargs.pop("name", "ppTSN_Inference_helper")
    if name not in SUPPORTED_HELPERS:
        raise InferenceError(f"INFERENCE.name: '{name}' is not supported; use one of: {', '.join(SUPPORTED_HELPERS)}")
    for key in kwargs:
        if key not in INFERENCE_KEYS:
            raise InferenceError(f"INFERENCE.{key}: unknown key for {name}; keys: {', '.join(INFERENCE_KEYS)}")
    for key in POSITIVE_INT_KEYS:
        value = kwargs.get(key)
        if key in kwargs and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InferenceError(f"INFERENCE.{key} must be a positive integer, got {value!r}")
    for key in ("mean", "std"):
        value = kwargs.get(key)
        if key in kwargs and (not isinstance(value, (list, tuple)) or len(value) != 3):
            raise InferenceError(f"INFERENCE.{key} must be a list of 3 numbers, got {value!r}")
    return {**DEFAULTS, **kwargs}


def inference_op_specs(inference_cfg) -> list:
    """``INFERENCE`` -> ``[{OpName: {kwargs}}, ...]``: decode, sample, scale (4:3), TenCrop, to array, normalise.

    The decoder's ``backend`` is written only when ``INFERENCE.backend`` sets it: which decoder is
    installed is a property of the machine that predicts, not of the model.
    """
    cfg = check_inference_section(inference_cfg)
    decoder = {"backend": str(cfg["backend"])} if cfg.get("backend") else {}
    return [
        {"VideoDecoder": decoder},
        {"Sampler": {"num_seg": cfg["num_seg"], "seg_len": cfg["seg_len"], "valid_mode": True,
                     "select_left": True}},
        {"Scale": {"short_size": cfg["short_size"], "fixed_ratio": True, "do_round": True, "backend": "cv2"}},
        {"TenCrop": {"target_size": cfg["target_size"]}},
        {"Image2Array": {}},
        {"Normalization": {"mean": [float(v) for v in cfg["mean"]], "std": [float(v) for v in cfg["std"]]}},
    ]


def inference_top_k(inference_cfg) -> int:
    return check_inference_section(inference_cfg)["top_k"]


def spec_items(spec) -> tuple:
    """``{OpName: kwargs | None}`` -> ``(OpName, {kwargs})``; anything else raises ``InferenceError``."""
    if not hasattr(spec, "items") or len(spec) != 1:
        raise InferenceError(f"an op spec must be a one-key mapping {{OpName: {{kwargs}}}}, got {spec!r}")
    (name, kwargs), = spec.items()
    if kwargs is not None and not hasattr(kwargs, "items"):
        raise InferenceError(f"the arguments of {name} must be a mapping, got {kwargs!r}")
    return str(name), dict(kwargs or {})


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
