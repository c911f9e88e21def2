"""Mixed precision: PaddleVideo's float16 AMP on GPU; on CPU, fp32 (decided, see docs/train.md).

On a CPU, Paddle's float16 kernels are missing or slow, and bfloat16 needs AVX512-BF16/AMX,
which this kind of machine lacks (it runs emulated, slower than fp32). So ``--amp`` on CPU logs
one warning and trains in fp32 rather than silently producing a slower or different run.
"""
import logging
import contextlib

import paddle

logger = logging.getLogger(__name__)


AMP_LEVELS = ("O1", "O2")


def resolve_amp(use_amp: bool, amp_level, device: str):
    """``(use_amp, level)`` that will actually run on ``device``; logs the decision."""
    if not use_amp:
        if amp_level is not None:
            logger.warning(f"--amp_level {amp_level} ignored: --amp is not set")
        logger.info("Training in fp32 mode.")
        return False, None
    level = amp_level or "O1"
    if device.startswith("cpu"):
        logger.warning("AMP (float16) is not supported on CPU: training in fp32 mode.")
        return False, None
    logger.info(f"Training in amp mode, amp_level={level}.")
    return True, level


def amp_decorate(model, optimizer, level):
    """GradScaler as PaddleVideo configures it; ``O2`` also casts the parameters (saved as float32)."""
    scaler = paddle.amp.GradScaler(init_loss_scaling=2.0 ** 16, incr_every_n_steps=2000,
                                   decr_every_n_nan_or_inf=1)
    if level == "O2":
        model, optimizer = paddle.amp.decorate(models=model, optimizers=optimizer, level=level,
                                               save_dtype="float32")
    return model, optimizer, scaler


def autocast(use_amp: bool, level):
    """``paddle.amp.auto_cast`` (mean kept in fp32, as PaddleVideo) or a no-op context."""
    if not use_amp:
        return contextlib.nullcontext()
    return paddle.amp.auto_cast(custom_black_list={"reduce_mean"}, level=level)
