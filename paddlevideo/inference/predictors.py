"""Backends: one ``run(batch) -> logits`` interface over Paddle Inference, onnxruntime and dygraph.

``batch``: float32 ``[N, views, 3, H, W]``; result: float32 logits ``[N, classes]``. Also here: the checks
a backend needs before Paddle sees a file (program, weights against the program, input shape), the device
and precision choices (GPU, TensorRT, XPU/NPU, CPU bfloat16 from ``/proc/cpuinfo``, CPU int8), and feeding a
video's views in chunks.
"""
import contextlib
import functools
import json
import logging
import os
import sys
from dataclasses import dataclass

import numpy as np

from ..utils.runtime import usable_cpus
from .model import InferenceError

logger = logging.getLogger(__name__)


class MissingDependencyError(InferenceError):
    """An optional package (paddle2onnx, onnxruntime) is not installed; the message gives the pip command."""


class UnsupportedDeviceError(InferenceError):
    """A flag asks for hardware support this Paddle build lacks (TensorRT without a TensorRT build)."""


def require_module(module: str, pip_name: str, purpose: str):
    """Import ``module`` or raise ``MissingDependencyError`` with the pip command for ``purpose``."""
    from ..utils.optional import import_optional
    return import_optional(module, pip_name, purpose, MissingDependencyError,
                           hint=" (or pip install -e .[onnx] for both paddle2onnx and onnxruntime)")


# ---------------------------------------------------------------- model files
MODEL_SUFFIXES = (".pdmodel", ".json")


def _require_file(path: str, flag: str, what: str):
    if not path:
        raise InferenceError(f"{flag} is required: the {what}")
    if not os.path.isfile(path):
        raise InferenceError(f"{flag}: file not found: {path}")
    if os.path.getsize(path) == 0:
        raise InferenceError(f"{flag}: file is empty (0 bytes): {path}")


@dataclass(frozen=True)
class ProgramInfo:
    """What predict reads from an exported program before Paddle Inference loads it."""
    inputs: list                      # [(input name, shape)], -1/None = any
    op_types: frozenset = frozenset()
    params: tuple = ()                # ((name, shape), ...) of the weights, in the order of the .pdiparams
    num_classes: int = None           # the last dimension of the output, when the program fixes it

    @property
    def quantized(self) -> bool:
        """True for a program with (de)quantize ops: a post-training-quantized model."""
        return any("quantize" in op for op in self.op_types)


def _pdmodel_program(path: str) -> ProgramInfo:
    from paddle.base import core
    with open(path, "rb") as f:
        data = f.read()
    try:
        desc = core.ProgramDesc(data)
    except Exception:  # Paddle raises ValueError(InvalidArgument) for bytes that are not a ProgramDesc
        raise InferenceError(f"--model_file {path} is not a Paddle program (.pdmodel); "
                             "export one with tools/export_model.py") from None
    block = desc.block(0)
    inputs, op_types, num_classes = [], set(), None
    for i in range(block.op_size()):
        op = block.op(i)
        op_types.add(op.type())
        if op.type() == "feed":
            name = op.output("Out")[0]
            inputs.append((name, list(block.var(name.encode()).shape())))
        elif op.type() == "fetch" and num_classes is None:
            shape = list(block.var(op.input("X")[0].encode()).shape())
            num_classes = shape[-1] if shape and shape[-1] > 0 else None
    # save_combine writes the persistable tensors sorted by name
    params = sorted((var.name(), list(var.shape())) for var in block.all_vars()
                    if var.persistable() and var.name() not in ("feed", "fetch"))
    return ProgramInfo(inputs, frozenset(op_types), tuple(params), num_classes)


def _json_program(path: str) -> ProgramInfo:
    try:
        with open(path, "r", encoding="utf-8") as f:
            program = json.load(f)
        if program.get("base_code", {}).get("magic") != "pir":
            raise ValueError("no PIR magic")
        ops = program["program"]["regions"][0]["blocks"][0]["ops"]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, UnicodeDecodeError):
        raise InferenceError(f"--model_file {path} is not a Paddle PIR program (.json); "
                             "export one with tools/export_model.py --format json") from None
    inputs, op_types = [], set()
    for op in ops:
        op_types.add(str(op.get("#")))
        if op.get("#") != "1.data":
            continue
        attrs = {a.get("N"): a.get("AT", {}).get("D") for a in op.get("A", []) if isinstance(a, dict)}
        inputs.append((attrs.get("name"), attrs.get("shape")))
    return ProgramInfo(inputs, frozenset(op_types))


def read_program(model_file: str, params_file: str) -> ProgramInfo:
    """Validate a ``.pdmodel``/``.json`` + ``.pdiparams`` pair and read the program's inputs, op types and
    weight shapes; a missing, empty or wrong-kind file, or weights that do not fit, raise ``InferenceError``."""
    _require_file(model_file, "--model_file", "exported program (.pdmodel or .json)")
    _require_file(params_file, "--params_file", "exported weights (.pdiparams)")
    if model_file.endswith(".pdiparams"):
        raise InferenceError(f"--model_file {model_file} is a weights file; pass the .pdmodel (or .json) "
                             "as --model_file and the .pdiparams as --params_file")
    if params_file.endswith((".pdmodel", ".json")):
        raise InferenceError(f"--params_file {params_file} is a program file; pass the .pdiparams")
    if model_file.endswith(".json"):
        return _json_program(model_file)
    if model_file.endswith(".onnx"):
        raise InferenceError(f"--model_file {model_file} is an ONNX model; pass it as --onnx_file")
    program = _pdmodel_program(model_file)
    check_params_file(program, model_file, params_file)
    return program


def check_model_files(model_file: str, params_file: str):
    """Validate a ``.pdmodel``/``.json`` + ``.pdiparams`` pair; return ``[(input name, shape)]`` (-1 = any)."""
    return read_program(model_file, params_file).inputs


# Element sizes of the TensorDesc data types a .pdiparams holds (Paddle's framework.proto VarType.Type).
ELEMENT_BYTES = {0: 1, 1: 2, 2: 4, 3: 8, 4: 2, 5: 4, 6: 8, 20: 1, 21: 1, 22: 2, 23: 8, 24: 16}


def _varint(data: bytes, at: int):
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("bad varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _tensor_desc(data: bytes):
    """``(data type, dims)`` of a serialized ``TensorDesc`` (field 1: data_type, field 2: dims)."""
    at, dtype, dims = 0, None, []
    while at < len(data):
        key, at = _varint(data, at)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            if field == 1:
                dtype = value
            elif field == 2:
                dims.append(value - (1 << 64) if value >= 1 << 63 else value)
        elif wire == 2:
            size, at = _varint(data, at)
            end = at + size
            while field == 2 and at < end:
                value, at = _varint(data, at)
                dims.append(value - (1 << 64) if value >= 1 << 63 else value)
            at = end
        else:
            raise ValueError(f"wire type {wire}")
    return dtype, dims


def _read_tensor_headers(f, size: int):
    """Yield ``(dims, end offset)`` for each tensor of a combined ``.pdiparams``, skipping the data."""
    import struct
    while f.tell() < size:
        head = f.read(12)
        if len(head) < 12:
            raise ValueError("cut inside a tensor header")
        lod_levels = struct.unpack("<Q", head[4:12])[0]
        if lod_levels > 64:
            raise ValueError("not a tensor header")
        for _ in range(lod_levels):
            (nbytes,) = struct.unpack("<Q", f.read(8))
            f.seek(nbytes, 1)
        head = f.read(8)
        if len(head) < 8:
            raise ValueError("cut inside a tensor header")
        desc_size = struct.unpack("<i", head[4:8])[0]
        if not 0 <= desc_size <= 4096:
            raise ValueError("not a tensor header")
        dtype, dims = _tensor_desc(f.read(desc_size))
        if dtype not in ELEMENT_BYTES or any(d < 0 for d in dims):
            raise ValueError("not a tensor header")
        numel = 1
        for d in dims:
            numel *= d
        f.seek(numel * ELEMENT_BYTES[dtype], 1)
        yield dims, f.tell()


def check_params_file(program: ProgramInfo, model_file: str, params_file: str):
    """Refuse a ``.pdiparams`` that does not hold the program's weights: cut short, too long, or a tensor
    of another shape (weights of another model). Reads the tensor headers only; names both files."""
    if not program.params:
        return
    size = os.path.getsize(params_file)
    both = f"{params_file} does not fit {model_file}"
    count = 0
    try:
        with open(params_file, "rb") as f:
            for (name, shape), (dims, end) in zip(program.params, _read_tensor_headers(f, size)):
                if end > size:
                    raise InferenceError(f"{both}: the weights file is cut short ({size} bytes; tensor {name} "
                                         f"alone ends at byte {end}): export again or copy the whole file")
                if [d for d in dims if d != 1] != [int(d) for d in shape if d != 1]:  # [] and [1] load alike
                    raise InferenceError(f"{both}: tensor {name} is {list(dims)} in the weights but {shape} in "
                                         "the program (weights of another model?): pass the .pdiparams exported "
                                         "with this .pdmodel")
                count += 1
                last_end = end
    except InferenceError:
        raise
    except (ValueError, OSError) as err:
        raise InferenceError(f"{both}: not the program's weights file ({err}) after {count} of "
                             f"{len(program.params)} tensors") from None
    if count < len(program.params):
        raise InferenceError(f"{both}: the weights file holds {count} tensors, the program needs "
                             f"{len(program.params)} (cut short?)")
    if last_end != size:
        raise InferenceError(f"{both}: the weights file has {size - last_end} bytes more than the program's "
                             f"{count} tensors (weights of another model?)")


def check_input_shape(declared, actual, model_file: str, source: str = "the config's INFERENCE section"):
    """Fail clearly when the preprocessed input ``actual`` cannot feed a model declaring ``declared``.

    ``declared`` uses -1/None for free dimensions; only fixed dimensions are compared. ``source``
    names where the preprocessing came from (the config's INFERENCE section, or ``X.yml``).
    """
    if declared is None:
        return
    ok = len(declared) == len(actual) and all(
        d is None or d == -1 or isinstance(d, str) or d == a for d, a in zip(declared, actual))
    if not ok:
        shown = ["?" if d is None or d == -1 or isinstance(d, str) else d for d in declared]
        raise InferenceError(
            f"{model_file} expects input {shown} but {source} produces {list(actual)}; predict with the "
            "config used for export (or --override INFERENCE.num_seg=... INFERENCE.target_size=...), "
            "or export the model again")


# ---------------------------------------------------------------- device and precision
PRECISIONS = ("fp32", "fp16", "int8", "bf16")  # bf16: CPU oneDNN only (check_cpu_bf16)


@functools.lru_cache(maxsize=None)
def gpu_available() -> bool:
    """True when this Paddle is built with CUDA and sees at least one GPU."""
    import paddle
    if not paddle.is_compiled_with_cuda():
        return False
    try:
        return paddle.device.cuda.device_count() > 0
    except Exception:  # a CUDA build without a driver
        return False


def tensorrt_available() -> bool:
    """True when this Paddle build links TensorRT (``get_trt_compile_version`` is not 0.0.0)."""
    from paddle import inference
    try:
        return tuple(inference.get_trt_compile_version()) != (0, 0, 0)
    except Exception:
        return False


_warned = set()


def resolve_use_gpu(requested) -> bool:
    """``requested`` None -> GPU when available; True on a CPU-only setup warns once and returns False."""
    if requested is None:
        return gpu_available()
    if requested and not gpu_available():
        if "gpu" not in _warned:
            _warned.add("gpu")
            logger.warning(
                "--use_gpu True, but this Paddle has no CUDA or sees no GPU: running on CPU")
        return False
    return bool(requested)


ACCELERATORS = {"xpu": "--use_xpu True needs a Paddle built for Kunlun XPU (paddlepaddle-xpu)",
                "npu": "--use_npu True needs a Paddle with the Ascend NPU plug-in (paddle-custom-npu)"}


def check_accelerator(accelerator: str):
    """Refuse ``--use_xpu``/``--use_npu`` on a Paddle build without that device, in one line."""
    import paddle
    if accelerator == "xpu":
        present = paddle.is_compiled_with_xpu()
    else:
        present = paddle.device.is_compiled_with_custom_device(accelerator)
    if not present:
        raise UnsupportedDeviceError(f"{ACCELERATORS[accelerator]}; this Paddle has none "
                                     f"(drop --use_{accelerator}, or install that build)")


def check_tensorrt(use_tensorrt: bool, use_gpu: bool):
    """Refuse ``--use_tensorrt`` where it cannot run, with one clear ``UnsupportedDeviceError``."""
    if not use_tensorrt:
        return
    import paddle
    if not paddle.is_compiled_with_cuda():
        raise UnsupportedDeviceError(
            "--use_tensorrt True needs paddlepaddle-gpu built with TensorRT; this Paddle is a CPU build "
            "(drop --use_tensorrt, or install a GPU build with TensorRT)")
    if not tensorrt_available():
        raise UnsupportedDeviceError(
            "--use_tensorrt True needs a Paddle build with TensorRT; this GPU build has none "
            "(paddle.inference.get_trt_compile_version() is 0.0.0)")
    if not use_gpu:
        raise UnsupportedDeviceError("--use_tensorrt True runs on the GPU: it needs --use_gpu True and a visible GPU")


def tensorrt_precision(precision: str):
    """``fp32|fp16|int8`` -> ``paddle.inference.PrecisionType``; bf16 is refused (a CPU path)."""
    from paddle import inference
    if precision == "bf16":
        raise UnsupportedDeviceError("--precision bf16 is the CPU (oneDNN) path: with TensorRT use fp16, fp32 or int8")
    return {"fp32": inference.PrecisionType.Float32, "fp16": inference.PrecisionType.Half,
            "int8": inference.PrecisionType.Int8}[precision]


def tensorrt_max_batch_size(batch_size: int, frames_per_video: int) -> int:
    """TensorRT sees the backbone's batch: videos x frames per video (segments x crop views)."""
    return int(batch_size) * int(frames_per_video)


def tensorrt_shape_ranges(input_name: str, declared, video_shape, batch_size: int, view_chunk: int):
    """``(min, max, opt)`` input shapes for ``Config.set_trt_dynamic_shape_info``, or None.

    ``declared``: the program's input shape (-1/None = free); ``video_shape``: one preprocessed video,
    ``[1, views, 3, S, S]``. None when the view dimension is fixed (a PaddleVideo export: a static
    engine sized by ``max_batch_size``). Otherwise each is ``{input_name: [videos, views, 3, S, S]}``:
    min ``[1, 1, ...]`` (the last run may hold fewer videos; any chunk size), opt ``[batch_size,
    chunk, ...]`` (what predict feeds), max ``[batch_size, views, ...]`` (one-shot, ``--view_chunk 0``).
    """
    views_declared = declared[1] if declared is not None and len(declared) > 1 else None
    if isinstance(views_declared, int) and views_declared > 0:
        return None
    views, chw = int(video_shape[1]), [int(d) for d in video_shape[2:]]
    chunk = views if view_chunk <= 0 else min(int(view_chunk), views)
    batch = int(batch_size)
    return ({input_name: [1, 1] + chw}, {input_name: [batch, views] + chw}, {input_name: [batch, chunk] + chw})


# ---------------------------------------------------------------- CPU precision: bfloat16 and int8
# ``--precision bf16`` (ours; PaddleVideo's --precision is fp32/fp16/int8 for TensorRT) runs oneDNN with
# ``enable_mkldnn_bfloat16()``. Paddle accepts that call on any CPU and silently runs fp32 where the hardware
# lacks bf16, so support is checked first, from /proc/cpuinfo's flags (``CPUINFO`` is read at call time, so
# tests can point it at a fake file). ``--precision int8`` on CPU runs a quantized program on oneDNN int8.
CPUINFO = "/proc/cpuinfo"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def read_cpu_field(cpuinfo: str, field: str) -> str:
    """The value of ``field`` (``flags``, ``vendor_id``) for the first processor in ``cpuinfo`` ("" when the
    file is unreadable or has none)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="ignore") as f:
            for line in f:
                name, sep, value = line.partition(":")
                if sep and name.strip() == field:
                    return value.strip()
    except OSError:
        pass
    return ""


def read_cpu_flags(cpuinfo: str = CPUINFO) -> frozenset:
    """The ``flags`` of the first processor in ``cpuinfo`` (empty when the file is unreadable or has none)."""
    return frozenset(read_cpu_field(cpuinfo, "flags").split())


@functools.lru_cache(maxsize=None)
def bf16_flags(cpuinfo: str = CPUINFO) -> tuple:
    """Which of ``avx512_bf16`` / ``amx_bf16`` the CPU described by ``cpuinfo`` has (empty: no bf16)."""
    flags = read_cpu_flags(cpuinfo)
    return tuple(flag for flag in BF16_FLAGS if flag in flags)


def check_cpu_bf16(enable_mkldnn: bool, ir_optim: bool, cpuinfo: str = None) -> tuple:
    """Refuse ``--precision bf16`` where it would not run bf16; return the CPU's bf16 flags.

    Raises ``UnsupportedDeviceError`` (one line, exit status 2 in the tools) without oneDNN, without
    graph optimisation (the bf16 passes are IR passes), or on a CPU without AVX512-BF16 / AMX-BF16.
    """
    if not enable_mkldnn:
        raise UnsupportedDeviceError("--precision bf16 runs on oneDNN: drop --enable_mkldnn False")
    if not ir_optim:
        raise UnsupportedDeviceError("--precision bf16 needs the graph passes: drop --ir_optim False")
    cpuinfo = cpuinfo or CPUINFO
    found = bf16_flags(cpuinfo)
    if not found:
        raise UnsupportedDeviceError(
            f"--precision bf16 needs a CPU with AVX512-BF16 or AMX-BF16 ({' or '.join(BF16_FLAGS)} in "
            f"{cpuinfo}); this one has neither: use --precision fp32")
    return found


def check_cpu_int8(model_file: str, enable_mkldnn: bool, ir_optim: bool, quantized: bool):
    """Refuse ``--precision int8`` on CPU without oneDNN, without the graph passes, or for a model that
    was never quantized (no ``quantized: int8`` in its ``.yml`` and no quantize ops in the program)."""
    if not enable_mkldnn:
        raise UnsupportedDeviceError("--precision int8 runs on oneDNN: drop --enable_mkldnn False")
    if not ir_optim:
        raise UnsupportedDeviceError("--precision int8 needs the graph passes: drop --ir_optim False")
    if not quantized:
        raise InferenceError(f"--precision int8 needs a quantized model, and {model_file} was never quantized: "
                             "run deploy/slim/quant_post_static.py on its export first, then predict with the "
                             "model it writes")


def bf16_measured(cpuinfo: str = None):
    """``(faster, figure)``: how oneDNN bf16 compared with fp32 (one 250-view ResNet-50 video) on this CPU's
    class, or None where bf16 does not run. The flags alone do not tell: AVX512-BF16 without AMX was slower
    than fp32 on an Intel Xeon but faster on an AMD EPYC Zen 4 (docs/performance.md)."""
    cpuinfo = cpuinfo or CPUINFO
    flags = bf16_flags(cpuinfo)
    if "amx_bf16" in flags:
        return True, "about 4x faster than fp32 (AMX-BF16; measured on a Sapphire Rapids-class Xeon)"
    if "avx512_bf16" not in flags:
        return None
    if read_cpu_field(cpuinfo, "vendor_id") == "AuthenticAMD":
        return True, "1.6-2x faster than fp32 (AVX512-BF16; measured on an AMD EPYC Zen 4)"
    return False, "1.2-1.6x slower than fp32 (AVX512-BF16 without AMX; measured on an Intel Xeon without AMX)"


def bf16_hint(program: str, cpuinfo: str = None):
    """The one stderr line an fp32 CPU run prints where bf16 was measured faster on this CPU's class, or None."""
    measured = bf16_measured(cpuinfo)
    if not measured or not measured[0]:
        return None
    return (f"{program}: hint: on this CPU --precision bf16 runs {measured[1]}, same top-1 on the test videos; "
            "fp32 stays the default and matches PaddleVideo (benchmarks/bench_predict.py --precision-check "
            "measures yours)")


def bf16_slow_notice(program: str, cpuinfo: str = None):
    """The one stderr line a bf16 run prints where bf16 was measured slower than fp32 on this CPU's class, or None."""
    measured = bf16_measured(cpuinfo)
    if not measured or measured[0]:
        return None
    return (f"{program}: note: on this CPU --precision bf16 is likely slower than fp32: {measured[1]}; "
            "running bf16 as asked")


# ---------------------------------------------------------------- backends
class Backend:
    """What runs the model: ``input_shape`` is the declared input (``None``/-1 for free dims) or ``None`` when unknown."""

    kind = "predictor"
    input_shape = None
    num_classes = None  # classes the model outputs, when its files say
    source = "the model"  # the file it runs, for messages

    def run(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        return self.kind


class PaddlePredictor(Backend):
    """Paddle Inference (``paddle.inference``) on an exported ``.pdmodel``/``.json`` + ``.pdiparams``.

    CPU: ``disable_gpu``, ``set_cpu_math_library_num_threads``, oneDNN when ``enable_mkldnn``; bf16 (and
    fp16, as PaddleVideo) add ``enable_mkldnn_bfloat16``, bf16 only on a CPU that has it (``cpuinfo``,
    else ``UnsupportedDeviceError``). GPU: ``enable_use_gpu(gpu_mem)``, optional TensorRT with
    ``max_batch_size`` and, for a free view dimension, the shape ranges (min, max, opt) of
    ``video_shape`` (one preprocessed video), ``batch_size`` and ``view_chunk``. ``enable_memory_optim()`` (buffer reuse) is asked for wherever Paddle takes it:
    for a classic ``.pdmodel`` on CPU it cuts the peak memory of a 250-frame TSN video from 12 GB to
    3 GB with oneDNN (native kernels: from ~40 GB, out of memory on 24 GB, to 16 GB). Paddle 3.3.1
    rejects it for PIR ``.json`` programs on CPU ("Not find predictor_id ... memory_optimize_pass";
    PaddleVideo's predict.py dies there); those predictors are created without it (PIR reuses memory
    itself), and any other such refusal falls back the same way.
    """

    kind = "paddle_inference"
    accelerator = None  # "xpu" / "npu": PaddleVideo's --use_xpu / --use_npu

    def __init__(self, model_file, params_file, use_gpu=False, gpu_mem=8000, cpu_threads=None,
                 enable_mkldnn=True, ir_optim=True, precision="fp32", use_tensorrt=False, disable_glog=True,
                 video_shape=None, batch_size=1, view_chunk=0, cpuinfo=None, accelerator=None, quantized=False):
        if accelerator and not use_gpu:
            check_accelerator(accelerator)
            self.accelerator = accelerator
        check_tensorrt(use_tensorrt, use_gpu)
        if precision == "bf16" and use_gpu and not use_tensorrt:
            raise UnsupportedDeviceError("--precision bf16 is a CPU path: pass --use_gpu False (on the GPU: fp16)")
        if precision == "bf16" and not use_gpu:
            check_cpu_bf16(enable_mkldnn, ir_optim, cpuinfo)
        self.program = program = read_program(model_file, params_file)
        inputs = program.inputs
        if precision == "int8" and not use_gpu and not self.accelerator:
            check_cpu_int8(model_file, enable_mkldnn, ir_optim, quantized or program.quantized)
        self.model_file = self.source = model_file
        self.params_file = params_file
        self.input_name = inputs[0][0] if inputs else None
        self.input_shape = inputs[0][1] if inputs else None
        self.num_classes = program.num_classes
        self.use_gpu = use_gpu
        self.precision = precision
        self.cpu_threads = cpu_threads or usable_cpus()
        self.enable_mkldnn = enable_mkldnn and not use_gpu and not self.accelerator
        if precision == "fp16" and not use_gpu and not self.enable_mkldnn:
            logger.warning(f"--precision {precision} has no CPU path here: running fp32")
        trt_max_batch_size, trt_shape_ranges = 1, None
        if use_tensorrt and video_shape is not None:
            trt_max_batch_size = tensorrt_max_batch_size(batch_size, video_shape[1])
            trt_shape_ranges = tensorrt_shape_ranges(self.input_name, self.input_shape, video_shape, batch_size,
                                                     view_chunk)
        settings = dict(gpu_mem=gpu_mem, ir_optim=ir_optim, precision=precision, use_tensorrt=use_tensorrt,
                        trt_max_batch_size=trt_max_batch_size, disable_glog=disable_glog,
                        trt_shape_ranges=trt_shape_ranges)
        self.memory_optim = self.wants_memory_optim(model_file, use_gpu)
        self.quiet_runs = 2 if disable_glog else 0  # the first runs (two chunk shapes) set up oneDNN and print
        try:
            with _native_output(quiet=disable_glog):
                self.predictor = self._create(memory_optim=self.memory_optim, **settings)
        except InferenceError as err:
            if not (self.memory_optim and "memory_optimize_pass" in str(err)):
                raise
            self.memory_optim = False
            with _native_output(quiet=disable_glog):
                self.predictor = self._create(memory_optim=False, **settings)
        self.input_handle = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output_handle = self.predictor.get_output_handle(self.predictor.get_output_names()[0])

    @staticmethod
    def wants_memory_optim(model_file, use_gpu) -> bool:
        """Ask for ``enable_memory_optim`` except for a PIR ``.json`` program on CPU (3.3.1 rejects it)."""
        return bool(use_gpu) or not model_file.endswith(".json")

    def _create(self, memory_optim, gpu_mem, ir_optim, precision, use_tensorrt, trt_max_batch_size,
                disable_glog, trt_shape_ranges):
        from paddle import inference
        config = inference.Config(self.model_file, self.params_file)
        if self.use_gpu:
            config.enable_use_gpu(int(gpu_mem), 0)
            if use_tensorrt:
                config.enable_tensorrt_engine(precision_mode=tensorrt_precision(precision),
                                              max_batch_size=int(trt_max_batch_size),
                                              min_subgraph_size=3)
                if trt_shape_ranges:
                    config.set_trt_dynamic_shape_info(*trt_shape_ranges)  # (min, max, opt), Paddle's order
        elif self.accelerator == "xpu":
            config.enable_xpu()
        elif self.accelerator:
            config.enable_custom_device(self.accelerator)
        else:
            configure_cpu(config, self.cpu_threads, self.enable_mkldnn, precision)
        if memory_optim:
            config.enable_memory_optim()
        config.switch_ir_optim(bool(ir_optim))
        config.switch_use_feed_fetch_ops(False)
        if disable_glog:
            config.disable_glog_info()
        try:
            return inference.create_predictor(config)
        except (ValueError, RuntimeError, OSError) as err:
            raise InferenceError(f"Paddle Inference cannot load {self.model_file} with {self.params_file}: "
                                 f"{_first_line(err)}") from None

    def run(self, batch):
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        self.input_handle.reshape(list(batch.shape))
        self.input_handle.copy_from_cpu(batch)
        try:
            with _native_output(quiet=self.quiet_runs > 0):
                self.predictor.run()
            self.quiet_runs = max(self.quiet_runs - 1, 0)
        except (ValueError, RuntimeError) as err:
            raise InferenceError(f"Paddle Inference failed on input {list(batch.shape)} "
                                 f"({self.model_file}): {_first_line(err)}") from None
        return self.output_handle.copy_to_cpu()

    def describe(self):
        where = "GPU" if self.use_gpu else self.accelerator.upper() if self.accelerator else f"CPU, {self.cpu_threads} threads, oneDNN {'on' if self.enable_mkldnn else 'off'}"
        return f"Paddle Inference ({where}, {self.precision}, memory_optim {'on' if self.memory_optim else 'off'})"


def configure_cpu(config, cpu_threads: int, enable_mkldnn: bool, precision: str):
    """CPU settings of a ``paddle.inference.Config``: threads, oneDNN, and oneDNN bfloat16 for bf16/fp16."""
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(int(cpu_threads))
    if not enable_mkldnn:
        config.disable_mkldnn()
        return config
    config.set_mkldnn_cache_capacity(10)  # bounded cache of input shapes (PaddleVideo's value)
    config.enable_mkldnn()
    if precision in ("bf16", "fp16"):  # fp16: PaddleVideo's request for oneDNN bfloat16
        config.enable_mkldnn_bfloat16()
    elif precision == "int8":  # a quantized program (deploy/slim/quant_post_static.py) on oneDNN's int8 kernels
        config.enable_mkldnn_int8()
    return config


class OnnxPredictor(Backend):
    """onnxruntime session on ``onnx_file``: the CUDA provider when installed and ``use_gpu`` is True or
    None (the default), else the CPU provider; ``use_gpu=True`` without it warns once."""

    kind = "onnxruntime"

    def __init__(self, onnx_file, cpu_threads=None, ir_optim=True, use_gpu=None):
        ort = require_module("onnxruntime", "onnxruntime", "running an ONNX model")
        if not onnx_file or not os.path.isfile(onnx_file):
            raise InferenceError(f"--onnx_file: file not found: {onnx_file}")
        self.onnx_file = self.source = onnx_file
        self.cpu_threads = cpu_threads or usable_cpus()
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(self.cpu_threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if ir_optim
                                            else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        providers = ["CPUExecutionProvider"]
        if use_gpu is not False and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        elif use_gpu:
            logger.warning("--use_gpu True, but this onnxruntime has no CUDA provider: running on CPU")
        try:
            self.session = ort.InferenceSession(onnx_file, sess_options=options, providers=providers)
        except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf classes
            raise InferenceError(f"onnxruntime cannot load {onnx_file}: {_first_line(err)}") from None
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        self.input_shape = [d if isinstance(d, int) else -1 for d in first.shape]
        output = self.session.get_outputs()[0].shape
        self.num_classes = output[-1] if output and isinstance(output[-1], int) and output[-1] > 0 else None
        self.providers = self.session.get_providers()

    def run(self, batch):
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        try:
            return self.session.run(None, {self.input_name: batch})[0]
        except Exception as err:
            raise InferenceError(f"onnxruntime failed on input {list(batch.shape)} ({self.onnx_file}): "
                                 f"{_first_line(err)}") from None

    def describe(self):
        return f"onnxruntime ({self.providers[0]}, {self.cpu_threads} threads)"


class DygraphPredictor(Backend):
    """The dygraph model itself (``model.infer_step([imgs])`` under ``no_grad``): the fidelity reference."""

    kind = "dygraph"

    def __init__(self, model):
        self.model = model
        self.model.eval()

    def run(self, batch):
        import paddle
        with paddle.no_grad():
            out = self.model.infer_step([paddle.to_tensor(np.asarray(batch, dtype=np.float32))])
        return out.numpy()

    def describe(self):
        return "Paddle dygraph"


@contextlib.contextmanager
def _native_output(quiet: bool):
    """Redirect what C++ writes to fd 1 meanwhile to fd 2, or, ``quiet``, fds 1 and 2 to /dev/null.

    Paddle 3.3.1's oneDNN passes print debug lines ("ReduceMeanCheckIfOneDNNSupport") on stdout, where
    predict's result lines go, and its bf16 passes print "marked 76 operators to bfloat16" lines on
    stderr. Neither goes through glog, so ``disable_glog_info()`` misses them, and ``sys.stdout`` never
    sees them: only an fd-level redirect does. Quiet is used around predictor creation and the first
    run (where the passes and oneDNN's set-up print); Python exceptions are raised after the fds are back.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        saved_out, saved_err = os.dup(1), os.dup(2)
        target = os.open(os.devnull, os.O_WRONLY) if quiet else 2
        os.dup2(target, 1)
        if quiet:
            os.dup2(target, 2)
            os.close(target)
    except OSError:  # no usable fds (embedded use): leave them alone
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)


def _first_line(err) -> str:
    text = str(err).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not set(line) <= set("-="):
            return line[:300]
    return type(err).__name__


# ---------------------------------------------------------------- views in chunks
# TSN's head is ``fc(mean over views of pooled features)``, affine after the mean, so for chunks of sizes
# ``n_i`` (summing to ``V``) the one-shot logits equal ``sum_i n_i * logits(chunk_i) / V``: the peak activation
# memory drops from ``V`` frames to one chunk. A model exported with a free view dimension takes chunks; one
# with a fixed view count (PaddleVideo's exports: ``[-1, 250, 3, 224, 224]``) is run one-shot.
DEFAULT_VIEW_CHUNK = 25  # measured: see docs/predict.md "Views in chunks"


def takes_any_view_count(input_shape) -> bool:
    """True when the model's declared input ``[N, views, 3, H, W]`` leaves ``views`` free (None/-1/a name)."""
    if input_shape is None or len(input_shape) < 2:
        return False
    views = input_shape[1]
    return views is None or isinstance(views, str) or int(views) < 0


def chunk_bounds(views: int, view_chunk: int):
    """``[(start, stop)]`` covering ``range(views)`` in ``ceil(views / view_chunk)`` near-equal chunks.

    Sizes differ by at most one (250 views, chunk 64 -> 63, 63, 62, 62), so the backbone sees at most
    two batch shapes: oneDNN creates its kernels once per shape. ``view_chunk`` 0: one chunk.
    """
    if view_chunk <= 0 or view_chunk >= views:
        return [(0, views)]
    count = -(-views // view_chunk)
    base, extra = divmod(views, count)
    bounds, start = [], 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


class ViewChunkPredictor(Backend):
    """Wraps a predictor whose model takes any view count: ``run([N, V, 3, S, S]) -> [N, classes]``
    from ``ceil(V / view_chunk)`` runs on ``[N, <=view_chunk, 3, S, S]``, logits averaged weighted by
    chunk size (in float64, returned as float32)."""

    def __init__(self, inner, view_chunk: int):
        self.inner = inner
        self.view_chunk = int(view_chunk)
        self.kind = inner.kind
        self.input_shape = inner.input_shape
        self.source = inner.source

    def run(self, batch):
        views = batch.shape[1]
        bounds = chunk_bounds(views, self.view_chunk)
        if len(bounds) == 1:
            return self.inner.run(batch)
        total = None
        for start, stop in bounds:
            logits = np.asarray(self.inner.run(batch[:, start:stop]), dtype=np.float64) * (stop - start)
            total = logits if total is None else total + logits
        return (total / views).astype(np.float32)

    def describe(self):
        return f"{self.inner.describe()}, views in chunks of {self.view_chunk}"


def with_view_chunks(predictor, view_chunk: int):
    """``predictor`` wrapped to feed chunks of ``view_chunk`` views when its model takes any view count
    and ``view_chunk`` > 0; otherwise ``predictor`` itself (one-shot)."""
    if view_chunk == 0 or not takes_any_view_count(predictor.input_shape):
        return predictor
    return ViewChunkPredictor(predictor, view_chunk)
