"""Export a trained recognizer for deployment: classic ``.pdmodel`` (+ PIR ``.json``, + ONNX on request).

``export_model`` builds the model from ``cfg.MODEL``, loads the weights, traces ``infer_step`` with
a free view dimension, ``[None, None, 3, target_size, target_size]`` (the model reads the view
count from its input, so predict can feed a video's ``num_seg * 10`` TenCrop views in chunks), and
writes ``<output_dir>/<name>.pdmodel`` + ``.pdiparams`` (+ ``.pdiparams.info``), the format Paddle
Inference 2.x and 3.x both load, and ``<name>.yml``, the description predict builds its preprocessing
from (``model.describe_export``). Each format is written under an explicit IR guard, so the result
does not depend on ``FLAGS_enable_pir_api``. The files are one set, swapped in together once all are
complete (``utils.staged_files``): a failed or interrupted export leaves the previous one as it was.
"""
import contextlib
import filecmp
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings

from ..utils.paths import refuse_output_over_inputs
from ..utils.save_load import CheckpointError, load, load_ckpt
from ..utils.staged_files import refuse_non_files, staged_files
from .model import InferenceError, describe_export, inference_op_specs, load_label_list, ordered_labels, \
    write_model_yml
from .predictors import require_module
from .preprocess import build_preprocessor

logger = logging.getLogger(__name__)

FORMATS = ("pdmodel", "json")
# Every file an export of NAME may write. One export is one set: a file of an earlier export that this
# one does not write (an old NAME.onnx) is removed, so no file is left holding other weights.
EXPORT_SUFFIXES = (".pdmodel", ".pdiparams", ".pdiparams.info", ".json", ".json.pdiparams", ".onnx", ".yml")
# paddle2onnx 2.1 converts to ONNX opsets 7..21; outside that range its C++ aborts the whole process.
ONNX_OPSETS = range(7, 22)
NAME_MAX_BYTES = 255 - len(".json.pdiparams")  # the longest file name an export writes must fit


def inference_preprocessor(cfg):
    """The ``TSNPreprocessor`` of ``cfg.INFERENCE``, which must set ``num_seg`` and ``target_size``."""
    inference = cfg.get("INFERENCE")
    if not inference or "num_seg" not in inference or "target_size" not in inference:
        raise InferenceError("the config's INFERENCE section needs num_seg and target_size "
                             "(e.g. {name: ppTSN_Inference_helper, num_seg: 25, target_size: 224})")
    return build_preprocessor(inference)


def traced_shape(video_shape):
    """``[1, views, 3, H, W]`` of one preprocessed video -> ``[None, None, 3, H, W]``: any videos, any views."""
    return [None, None] + list(video_shape[2:])


def check_opset(opset_version) -> int:
    """``--opset_version`` as an int in paddle2onnx's range, else ``InferenceError`` (before any work)."""
    if isinstance(opset_version, bool) or not isinstance(opset_version, int):
        raise InferenceError(f"--opset_version must be an integer, got {opset_version!r}")
    if opset_version not in ONNX_OPSETS:
        raise InferenceError(f"--opset_version must be between {ONNX_OPSETS[0]} and {ONNX_OPSETS[-1]} "
                             f"(the opsets paddle2onnx converts to), got {opset_version}")
    return opset_version


def check_export_name(name: str) -> str:
    """The export's file-name stem: one path component the file system takes, else ``InferenceError``."""
    where = "the export name (--save_name, else the config's model_name)"
    if not isinstance(name, str) or name in ("", ".", "..") or "\0" in name or os.sep in name \
            or (os.altsep and os.altsep in name):
        raise InferenceError(f"{where} must be a file name without a folder, got {name!r}")
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
        raise InferenceError(f"{where} is {len(name.encode('utf-8', 'surrogateescape'))} bytes long; "
                             f"at most {NAME_MAX_BYTES} fit in a file name with the suffix .json.pdiparams")
    return name


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
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(prefix))) as tmp:
        tmp_prefix = os.path.join(tmp, "model")
        _trace_and_save(model, shape, tmp_prefix, pir=True)
        shutil.move(tmp_prefix + ".json", prefix + ".json")
        classic = prefix + ".pdiparams"
        if not os.path.exists(classic):
            shutil.move(tmp_prefix + ".pdiparams", classic)
        elif not filecmp.cmp(tmp_prefix + ".pdiparams", classic, shallow=False):
            shutil.move(tmp_prefix + ".pdiparams", prefix + ".json.pdiparams")


# Run in a child Python: a conversion paddle2onnx cannot do may abort its process (SIGABRT), which must
# not take the export (and its clean-up) down with it; its chatter is kept for the error message only.
# save_file=None returns the model instead of running paddle2onnx's optional optimizer (Polygraphy by
# default, which pip-installs packages from the network at run time); onnxruntime folds constants and
# fuses the graph itself when it loads the model, so the run time is the same.
_ONNX_CONVERTER = """
import sys
import paddle2onnx
model_file, params_file, onnx_file, opset = sys.argv[1:]
onnx_model = paddle2onnx.export(model_file, params_file, None, opset_version=int(opset), enable_onnx_checker=True)
with open(onnx_file, "wb") as f:
    f.write(onnx_model)
"""
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _failure_line(output: str) -> str:
    """The line of paddle2onnx's output that says what failed (else its last line)."""
    lines = [_ANSI_COLOUR.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    for marker in ("Failed to convert", "[ERROR]", "Error", "Aborted", "abort"):
        found = [line for line in lines if marker in line]
        if found:
            return found[0][:300]
    return lines[-1][:300] if lines else "no output"


def export_onnx(model_file: str, params_file: str, onnx_file: str, opset_version: int = 11):
    """Convert an exported Paddle program to ONNX with paddle2onnx (an optional extra), offline.

    The conversion runs in a child process (quiet, and its crash is an ``InferenceError``); no graph
    optimizer that needs the network runs. ``onnx_file`` is written only when the conversion succeeded.
    """
    opset_version = check_opset(opset_version)
    require_module("paddle2onnx", "paddle2onnx", "--onnx export")
    env = dict(os.environ, TMPDIR=os.path.dirname(os.path.abspath(onnx_file)))  # its scratch files go with ours
    proc = subprocess.run([sys.executable, "-c", _ONNX_CONVERTER, model_file, params_file, onnx_file,
                           str(opset_version)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0 or not os.path.isfile(onnx_file):
        how = (f"killed by {signal.Signals(-proc.returncode).name}" if proc.returncode < 0
               else f"exit status {proc.returncode}")
        with contextlib.suppress(OSError):
            os.remove(onnx_file)
        raise InferenceError(f"paddle2onnx could not convert {os.path.basename(model_file)} to ONNX opset "
                             f"{opset_version} ({how}): "
                             f"{_failure_line(proc.stdout.decode('utf-8', 'replace'))}")
    return onnx_file


def _num_classes(model) -> int:
    return int(model.state_dict()["head.fc.weight"].shape[1])


def export_model(cfg, weights: str, output_dir: str, save_name=None, formats=("pdmodel",), onnx=False,
                 opset_version: int = 11, logger=None, label_list=None, fixed_views=False, inputs=None):
    """Export ``cfg``'s model with ``weights`` into ``output_dir``; returns ``{"files", "removed",
    "input_shape", "name"}`` (``input_shape``: the traced ``[None, None, 3, H, W]``; ``<name>.yml``
    records one video's ``[None, views, 3, H, W]``). ``fixed_views``: trace ``[None, views, 3, H, W]``
    instead, as PaddleVideo's export does (such a program only takes all views at once).

    ``formats``: subset of ``("pdmodel", "json")``; ``onnx`` also writes ``<name>.onnx`` from the
    ``.pdmodel``; ``<name>.yml`` is always written, with the class names of the ``label_list`` file
    when given. All or nothing: the files are built in a temporary folder inside ``output_dir`` and
    swapped in together at the end; until then (and after any error or Ctrl-C) an earlier export of
    the same name is untouched. Its files that this export does not write are removed (``removed``).
    ``inputs``: other files the caller read (``{"-c": config path}``), which no output may replace.
    Raises ``CheckpointError`` / ``InferenceError`` / ``MissingDependencyError`` / ``OutputIsInputError``.
    """
    logger = logger or logging.getLogger(__name__)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InferenceError(f"--format must be one of {', '.join(FORMATS)}, got {', '.join(unknown) or 'nothing'}")
    if onnx:
        check_opset(opset_version)
        require_module("paddle2onnx", "paddle2onnx", "--onnx export")  # fail before the slow part
    name = save_name or cfg.get("model_name")
    if not name:
        raise InferenceError("no output name: the config has no model_name; pass --save_name NAME")
    check_export_name(name)
    every_name = [name + suffix for suffix in EXPORT_SUFFIXES]
    read = {"-p": weights, "--label_list": label_list, **(inputs or {})}
    for output in [output_dir] + [os.path.join(output_dir, n) for n in every_name]:
        refuse_output_over_inputs(output, read)
    refuse_non_files(output_dir, every_name)
    preprocessor = inference_preprocessor(cfg)
    video_shape = [None] + preprocessor.input_shape[1:]
    shape = list(video_shape) if fixed_views else traced_shape(preprocessor.input_shape)
    names = load_label_list(label_list) if label_list else None
    model = build_for_export(cfg, weights, logger)
    num_classes = _num_classes(model)
    labels = ordered_labels(names, num_classes, label_list) if names is not None else None
    info = describe_export(cfg.get("model_name") or name, video_shape, num_classes, inference_op_specs(cfg.INFERENCE),
                           preprocessor.top_k, labels)
    with staged_files(output_dir, f"{name}.export") as stage:
        prefix = stage.path(name)
        try:
            if "pdmodel" in formats or onnx:
                _trace_and_save(model, shape, prefix, pir=False)
            if "json" in formats:
                _save_json(model, shape, prefix)
            if onnx:
                export_onnx(prefix + ".pdmodel", prefix + ".pdiparams", prefix + ".onnx", opset_version)
            write_model_yml(prefix + ".yml", info)
        except OSError as err:  # a full disk, a quota: nothing has been replaced yet
            where = f" ({os.path.basename(err.filename)})" if err.filename else ""
            raise InferenceError(f"cannot write the export into {output_dir}: {err.strerror or err}{where}; "
                                 "the previous export is unchanged") from None
        obsolete = [n for n in every_name if n not in stage.staged_names()]
        removed = [os.path.join(output_dir, n) for n in obsolete if os.path.lexists(os.path.join(output_dir, n))]
        written = set(map(os.path.basename, stage.commit(obsolete)))
    reported = [name + suffix for suffix in EXPORT_SUFFIXES if suffix != ".pdiparams.info"]
    files = [os.path.join(output_dir, n) for n in reported if n in written]
    return {"files": files, "removed": removed, "input_shape": shape, "name": name}
