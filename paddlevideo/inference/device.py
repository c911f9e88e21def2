"""Device and precision choices for Paddle Inference: GPU availability, TensorRT, precision mapping."""
import logging
import functools

from .errors import InferenceError, UnsupportedDeviceError

logger = logging.getLogger(__name__)

PRECISIONS = ("fp32", "fp16", "int8", "bf16")  # bf16: CPU oneDNN only (cpu_precision.py)


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


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise InferenceError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def tensorrt_precision(precision: str):
    """``fp32|fp16|int8`` -> ``paddle.inference.PrecisionType``; bf16 is refused (a CPU path)."""
    from paddle import inference
    if precision == "bf16":
        raise UnsupportedDeviceError("--precision bf16 is the CPU (oneDNN) path: with TensorRT use fp16, fp32 or int8")
    return {"fp32": inference.PrecisionType.Float32, "fp16": inference.PrecisionType.Half,
            "int8": inference.PrecisionType.Int8}[check_precision(precision)]


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
