"""Export a trained recognizer for deployment: classic ``.pdmodel`` (+ PIR ``.json``, + ONNX on request).

``export_model`` builds the model from ``cfg.MODEL``, loads the weights, traces ``infer_step`` with
a free view dimension, ``[None, None, 3, target_size, target_size]`` (the model reads the view
count from its input, so predict can feed a video's ``num_seg * 10`` TenCrop views in chunks), and writes ``<output_dir>/<name>.pdmodel`` + ``.pdiparams`` (+ ``.pdiparams.info``), the
format Paddle Inference 2.x and 3.x both load, and ``<name>.yml``, the description predict builds its
preprocessing from (``model_yml``). Each format is written under an explicit IR guard, so the result
does not depend on ``FLAGS_enable_pir_api``.
"""
import logging
import filecmp
import os
import shutil
import tempfile
import warnings

from ..utils.save_load import CheckpointError, load, load_ckpt
from .model import InferenceError, describe_export, inference_op_specs, load_label_list, ordered_labels, \
    write_model_yml
from .predictors import require_module
from .preprocess import build_preprocessor

logger = logging.getLogger(__name__)

FORMATS = ("pdmodel", "json")


def inference_preprocessor(cfg):
    """The ``TSNPreprocessor`` of ``cfg.INFERENCE``, which must set ``num_seg`` and ``target_size``."""
    inference = cfg.get("INFERENCE")
    if not inference or "num_seg" not in inference or "target_size" not in inference:
        raise InferenceError("the config's INFERENCE section needs num_seg and target_size "
                             "(e.g. {name: ppTSN_Inference_helper, num_seg: 25, target_size: 224})")
    return build_preprocessor(inference)


def input_spec_shape(cfg):
    """The traced ``InputSpec``: ``[None, None, 3, H, W]``, free videos and views, ``H, W`` of ``cfg.INFERENCE``'s ops."""
    return traced_shape(inference_preprocessor(cfg).input_shape)


def traced_shape(video_shape):
    """``[1, views, 3, H, W]`` of one preprocessed video -> ``[None, None, 3, H, W]``: any videos, any views."""
    return [None, None] + list(video_shape[2:])


def _checkpoint_num_classes(state):
    weight = state.get("head.fc.weight")
    if weight is None:
        weight = state.get("_layers.head.fc.weight")
    shape = list(getattr(weight, "shape", []))
    return int(shape[1]) if len(shape) == 2 else None


def build_for_export(cfg, weights: str, logger=None):
    """Build ``cfg.MODEL`` without its ``pretrained`` backbone file, load ``weights`` strictly, eval mode.

    The backbone is built channels-first (``data_format`` NCHW) whatever the config says.

    When the checkpoint's head has another class count than ``MODEL.head.num_classes`` (a model
    trained on another dataset), the head is built with the checkpoint's count and a warning says so.
    Raises ``CheckpointError`` for a missing/corrupt file or tensors that do not fit.
    """
    from ..modeling import build_model
    logger = logger or logging.getLogger(__name__)
    model_cfg = cfg.MODEL
    backbone = model_cfg.get("backbone")
    if backbone and backbone.get("pretrained"):
        backbone["pretrained"] = ""  # the exported weights come from `weights`
    if backbone and backbone.get("data_format", "NCHW") != "NCHW":
        # Same parameters in both layouts; the channels-last graph breaks Paddle Inference's layout
        # passes and aborts paddle2onnx (3.3.1 / 2.1.0), so the deployable graph is always NCHW.
        logger.info(f"exporting with MODEL.backbone.data_format NCHW instead of {backbone['data_format']} "
                    "(same weights and results)")
        backbone["data_format"] = "NCHW"
    state = load(weights)
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {weights} holds a {type(state).__name__}, expected a state dict")
    head = model_cfg.get("head")
    file_classes = _checkpoint_num_classes(state)
    if head is not None and file_classes and head.get("num_classes") != file_classes:
        logger.warning(f"{weights} has {file_classes} classes, MODEL.head.num_classes is "
                       f"{head.get('num_classes')}: exporting with {file_classes} classes")
        head["num_classes"] = file_classes
    import paddle
    # A fresh parameter-name scope: the ResNet's fixed ParamAttr names ("conv1_weights") may be
    # built only once per scope in dygraph mode, and a caller may already hold a model.
    with paddle.utils.unique_name.guard():
        model = build_model(model_cfg)
    load_ckpt(model, weights, strict_shapes=True, logger=logger, only_may_differ=(), state=state)
    model.eval()
    return model


def _trace_and_save(model, shape, prefix: str, pir: bool):
    import paddle
    from paddle.static import InputSpec
    guard = paddle.pir_utils.IrGuard if pir else paddle.pir_utils.OldIrGuard
    with guard(), warnings.catch_warnings():
        # The backbone's in-place relu_/add_ are plain ops in a static graph; Paddle warns once per call.
        warnings.filterwarnings("ignore", message="In static graph mode")
        spec = [[InputSpec(shape=list(shape), dtype="float32")]]  # forward(data_batch=[imgs]) as PaddleVideo
        static_model = paddle.jit.to_static(model, input_spec=spec, full_graph=True)
        paddle.jit.save(static_model, prefix)


def _save_json(model, shape, prefix: str):
    """Write ``<prefix>.json``. Its weights go to ``<prefix>.pdiparams`` when that file is absent or
    already holds the same bytes, else to ``<prefix>.json.pdiparams`` (the classic file is never replaced)."""
    written = []
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(prefix))) as tmp:
        tmp_prefix = os.path.join(tmp, "model")
        _trace_and_save(model, shape, tmp_prefix, pir=True)
        json_path = prefix + ".json"
        shutil.move(tmp_prefix + ".json", json_path)
        written.append(json_path)
        classic = prefix + ".pdiparams"
        if not os.path.exists(classic):
            shutil.move(tmp_prefix + ".pdiparams", classic)
            written.append(classic)
        elif not filecmp.cmp(tmp_prefix + ".pdiparams", classic, shallow=False):
            own = prefix + ".json.pdiparams"
            shutil.move(tmp_prefix + ".pdiparams", own)
            written.append(own)
    return written


def export_onnx(model_file: str, params_file: str, onnx_file: str, opset_version: int = 11):
    """Convert an exported Paddle program to ONNX with paddle2onnx (an optional extra)."""
    paddle2onnx = require_module("paddle2onnx", "paddle2onnx", "--onnx export")
    try:
        paddle2onnx.export(model_file, params_file, onnx_file, opset_version=int(opset_version),
                           enable_onnx_checker=True)
    except Exception as err:  # paddle2onnx raises assorted errors; name the step and the files
        raise InferenceError(f"paddle2onnx could not convert {model_file}: {type(err).__name__}: "
                             f"{str(err).strip().splitlines()[0][:300] if str(err).strip() else ''}") from None
    if not os.path.isfile(onnx_file):
        raise InferenceError(f"paddle2onnx wrote no {onnx_file}")
    return onnx_file


def _num_classes(model) -> int:
    return int(model.state_dict()["head.fc.weight"].shape[1])


def export_model(cfg, weights: str, output_dir: str, save_name=None, formats=("pdmodel",), onnx=False,
                 opset_version: int = 11, logger=None, label_list=None, fixed_views=False):
    """Export ``cfg``'s model with ``weights`` into ``output_dir``; returns ``{"files", "input_shape", "name"}``
    (``input_shape``: the traced ``[None, None, 3, H, W]``; ``<name>.yml`` records one video's
    ``[None, views, 3, H, W]``). ``fixed_views``: trace ``[None, views, 3, H, W]`` instead, as
    PaddleVideo's export does (such a program only takes all views at once).

    ``formats``: subset of ``("pdmodel", "json")``; ``onnx`` also writes ``<name>.onnx`` from the
    ``.pdmodel``; ``<name>.yml`` is always written, with the class names of the ``label_list`` file
    when given. Raises ``CheckpointError`` / ``InferenceError`` / ``MissingDependencyError``.
    """
    logger = logger or logging.getLogger(__name__)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InferenceError(f"--format must be one of {', '.join(FORMATS)}, got {', '.join(unknown) or 'nothing'}")
    if onnx:
        require_module("paddle2onnx", "paddle2onnx", "--onnx export")  # fail before the slow part
    name = save_name or cfg.get("model_name")
    if not name:
        raise InferenceError("no output name: the config has no model_name; pass --save_name NAME")
    preprocessor = inference_preprocessor(cfg)
    video_shape = [None] + preprocessor.input_shape[1:]
    shape = list(video_shape) if fixed_views else traced_shape(preprocessor.input_shape)
    names = load_label_list(label_list) if label_list else None
    model = build_for_export(cfg, weights, logger)
    num_classes = _num_classes(model)
    labels = ordered_labels(names, num_classes, label_list) if names is not None else None
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as err:
        raise InferenceError(f"cannot create the output folder {output_dir}: {err.strerror or err}") from None
    prefix = os.path.join(output_dir, name)
    files = []
    if "pdmodel" in formats or onnx:
        _trace_and_save(model, shape, prefix, pir=False)
        files += [prefix + ".pdmodel", prefix + ".pdiparams"]
    if "json" in formats:
        files += _save_json(model, shape, prefix)
    if onnx:
        files.append(export_onnx(prefix + ".pdmodel", prefix + ".pdiparams", prefix + ".onnx", opset_version))
    info = describe_export(cfg.get("model_name") or name, video_shape, num_classes, inference_op_specs(cfg.INFERENCE),
                           preprocessor.top_k, labels)
    files.append(write_model_yml(prefix + ".yml", info))
    return {"files": files, "input_shape": shape, "name": name}
