"""Post-training int8 quantization of an exported TSN with Paddle's own ``PostTrainingQuantization``.

Reads ``<inference_model_dir>/<model_name>.pdmodel`` / ``.pdiparams`` / ``.yml`` (what
``tools/export_model.py`` writes), calibrates on ``CalibrationFeeds``, and writes
``<quant_output_dir>/<model_name>.pdmodel`` / ``.pdiparams`` plus the source ``.yml`` with one more key,
``quantized: int8`` (written last: its presence means the model files are complete). Paddle Inference runs
the result with oneDNN int8 (``Predictor(..., precision="int8")``).

Paddle 3's quantizer works on the classic program only: it runs under ``OldIrGuard`` in static mode,
and the previous mode is restored afterwards, so calling it from a dygraph process is safe.
"""
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from ..utils.atomic import atomic_write
from ..utils.errors import UserError
from ..utils.paths import refuse_output_over_inputs
from ..utils.text_files import read_text

logger = logging.getLogger(__name__)

# Paddle's PTQ algorithms for activations (weights: channel-wise abs-max in every case).
ALGOS = ("KL", "hist", "avg", "abs_max", "mse")
DEFAULT_ALGO = "abs_max"  # measured: as accurate as KL here, 70x faster to calibrate (docs/quantization.md)
DEFAULT_VIEW_CHUNK = 10
QUANTIZED_KEY = "quantized: int8"


class QuantizationError(UserError, ValueError):
    """A model folder, model description or output path that quantization cannot use."""


@dataclass(frozen=True)
class QuantResult:
    files: list
    algo: str
    feeds: int
    views: int
    seconds: float


def check_source_model(settings):
    """The exported model must be there, with its ``<name>.yml``, and not quantized already."""
    from ..inference import InferenceError, read_model_yml
    folder, name = settings.inference_model_dir, settings.model_name
    if not os.path.isdir(folder):
        raise QuantizationError(f"inference_model_dir {folder!r} (in {settings.config_path}) is not a folder: "
                                "export the model first (tools/export_model.py -o FOLDER)")
    for suffix in (".pdmodel", ".pdiparams"):
        if not os.path.isfile(settings.source(suffix)):
            found = sorted(f for f in os.listdir(folder) if f.endswith(".pdmodel"))
            hint = f"it holds {', '.join(found)}: set model_name" if found else \
                "export the model there with tools/export_model.py"
            raise QuantizationError(f"inference_model_dir {folder!r} holds no {name}{suffix}; {hint}")
    yml = settings.source(".yml")
    if not os.path.isfile(yml):
        raise QuantizationError(f"no {yml} beside {settings.source('.pdmodel')}: the quantized model carries "
                                "a copy of it; export with this project's tools/export_model.py, which writes it")
    try:
        info = read_model_yml(yml)
    except InferenceError as err:
        raise QuantizationError(str(err)) from None
    if info.get("quantized"):
        raise QuantizationError(f"{settings.source('.pdmodel')} is already quantized ({yml} says quantized: "
                                f"{info['quantized']}): quantize the fp32 export instead")
    return info


def refuse_overwriting_source(settings):
    """The outputs must not replace the inputs (``quant_output_dir`` equal to ``inference_model_dir``)."""
    inputs = {"the source model": [settings.source(s) for s in (".pdmodel", ".pdiparams", ".yml")]}
    for suffix in (".pdmodel", ".pdiparams", ".yml"):
        refuse_output_over_inputs(settings.output(suffix), inputs)


def check_view_shape(feeds, info, settings):
    """One calibration view must have the shape the model takes (``input_shape`` of ``<name>.yml``)."""
    model_view = [int(d) for d in info["input_shape"][2:]]
    clip_view = list(feeds.clip_shape[1:])
    if clip_view != model_view:
        raise QuantizationError(
            f"{settings.config_path}: PIPELINE.quant makes {'x'.join(map(str, clip_view))} views, but "
            f"{settings.source('.pdmodel')} takes {'x'.join(map(str, model_view))} "
            f"(input_shape in {settings.source('.yml')}): match the crop size (e.g. CenterCrop target_size)")


def _place(use_gpu: bool):
    import paddle
    if use_gpu and not (paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0):
        logger.warning("--use_gpu True, but this Paddle has no CUDA or sees no GPU: quantizing on CPU")
        use_gpu = False
    return paddle.CUDAPlace(0) if use_gpu else paddle.CPUPlace()


def _input_name(exe, settings):
    import paddle
    _, feed_names, _ = paddle.static.load_inference_model(settings.source(""), exe)
    if len(feed_names) != 1:
        raise QuantizationError(f"{settings.source('.pdmodel')} takes {len(feed_names)} inputs; a TSN export "
                                "takes one (the video views)")
    return feed_names[0]


def _publish(tmp_dir, settings):
    """Move the quantizer's files into ``quant_output_dir`` through ``atomic_write``; the ``.yml`` last."""
    written = []
    for suffix in (".pdiparams", ".pdmodel"):
        target = settings.output(suffix)
        with atomic_write(target, "wb") as (_, tmp):
            shutil.move(os.path.join(tmp_dir, "model" + suffix), tmp)
        written.append(target)
    text = read_text(settings.source(".yml"))
    target = settings.output(".yml")
    with atomic_write(target) as (f, _):
        f.write(text if text.endswith("\n") else text + "\n")
        f.write(QUANTIZED_KEY + "\n")
    written.append(target)
    return written


def check_output_dir(folder):
    """Before calibrating: ``quant_output_dir`` is a folder, or can be created under a writable one."""
    probe = os.path.abspath(folder)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise QuantizationError(f"quant_output_dir {folder!r}: {probe} is a file; expected a folder (existing or new)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise QuantizationError(f"quant_output_dir {folder!r}: {probe} is not writable")


def _make_output_dir(folder):
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise QuantizationError(f"quant_output_dir {folder!r} cannot be created: {err.strerror or err}") from None


def quantize(settings, algo: str = DEFAULT_ALGO, view_chunk: int = DEFAULT_VIEW_CHUNK, use_gpu: bool = False):
    """Quantize ``settings``' exported model to int8; returns a ``QuantResult``. Raises ``UserError``s."""
    if algo not in ALGOS:
        raise QuantizationError(f"--algo must be one of {', '.join(ALGOS)}, got {algo!r}")
    if int(view_chunk) < 1:
        raise QuantizationError(f"--view_chunk must be >= 1, got {view_chunk}")
    info = check_source_model(settings)
    refuse_overwriting_source(settings)
    check_output_dir(settings.quant_output_dir)
    import paddle
    from paddle.static.quantization import PostTrainingQuantization
    from .calibration import CalibrationFeeds
    was_dynamic = paddle.in_dynamic_mode()
    place = _place(use_gpu)
    start = time.perf_counter()
    try:
        with paddle.pir_utils.OldIrGuard():
            paddle.enable_static()
            exe = paddle.static.Executor(place)
            feeds = CalibrationFeeds(settings, _input_name(exe, settings), view_chunk)
            check_view_shape(feeds, info, settings)
            logger.info(f"calibrating on {feeds.batches} batch(es) of {settings.batch_size} clip(s), "
                        f"{feeds.views} views in {len(feeds)} chunk(s) of <= {view_chunk}; algo {algo}")
            ptq = PostTrainingQuantization(
                executor=exe, model_dir=settings.inference_model_dir, model_filename=settings.model_name + ".pdmodel",
                params_filename=settings.model_name + ".pdiparams", data_loader=feeds, batch_nums=len(feeds),
                algo=algo, weight_quantize_type="channel_wise_abs_max")
            ptq.quantize()
            _make_output_dir(settings.quant_output_dir)
            with tempfile.TemporaryDirectory(prefix=".quant_", dir=settings.quant_output_dir) as tmp:
                ptq.save_quantized_model(tmp, "model.pdmodel", "model.pdiparams")
                files = _publish(tmp, settings)
    finally:
        if was_dynamic:
            paddle.disable_static()
    return QuantResult(files=files, algo=algo, feeds=len(feeds), views=feeds.views,
                       seconds=time.perf_counter() - start)
