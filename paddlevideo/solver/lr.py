"""``build_lr``: an ``OPTIMIZER.learning_rate`` section -> a ``paddle.optimizer.lr.LRScheduler``.

The section names a class of ``paddle.optimizer.lr`` (``PiecewiseDecay``, ``CosineAnnealingDecay``,
``LinearWarmup``, ...) or one of ``custom_lr``; the other keys are its arguments. A nested
``learning_rate`` mapping is built first (``LinearWarmup`` around ``CosineAnnealingDecay``).
``iter_step: True`` means the training loop steps the scheduler every iteration instead of once
per epoch (``lr_steps_per_iteration``); classes that take ``num_iters`` (steps per epoch) then
receive the number of iterations per epoch, and 1 when they are stepped per epoch.
"""
import inspect

import paddle

from ..utils.errors import ConfigError
from ..utils.spec_checks import accepted_arguments, check_arguments
from .custom_lr import CUSTOM_SCHEDULERS

_META_KEYS = ("name", "iter_step")


def _scheduler_class(name):
    if name in CUSTOM_SCHEDULERS:
        return CUSTOM_SCHEDULERS[name]
    cls = getattr(paddle.optimizer.lr, str(name), None)
    if inspect.isclass(cls) and issubclass(cls, paddle.optimizer.lr.LRScheduler) \
            and cls is not paddle.optimizer.lr.LRScheduler:
        return cls
    known = sorted(n for n in dir(paddle.optimizer.lr)
                   if inspect.isclass(getattr(paddle.optimizer.lr, n))
                   and issubclass(getattr(paddle.optimizer.lr, n), paddle.optimizer.lr.LRScheduler)
                   and n != "LRScheduler") + sorted(CUSTOM_SCHEDULERS)
    raise ConfigError(f"OPTIMIZER.learning_rate.name '{name}' is not a learning-rate scheduler; "
                      f"known: {', '.join(known)}")


def lr_steps_per_iteration(cfg) -> bool:
    """True when ``OPTIMIZER.learning_rate`` asks to step the scheduler every iteration (``iter_step``)."""
    return hasattr(cfg, "get") and bool(cfg.get("iter_step", False))


def build_lr(cfg, num_iters: int, path: str = "OPTIMIZER.learning_rate", steps_per_epoch=None):
    """Build the scheduler described by ``cfg`` (a mapping with ``name``); ``num_iters`` = iterations per epoch.

    A plain number is returned unchanged (a constant learning rate).
    Raises ``ConfigError`` naming ``path`` and the key for an unknown name or argument.
    """
    if isinstance(cfg, (int, float)):
        return float(cfg)
    if not hasattr(cfg, "keys") or "name" not in cfg:
        raise ConfigError(f"{path} must be a number or a mapping with a 'name' key, got {cfg!r}")
    cls = _scheduler_class(cfg["name"])
    if steps_per_epoch is None:  # the outermost section decides how often the loop steps
        steps_per_epoch = num_iters if lr_steps_per_iteration(cfg) else 1
    kwargs = {k: v for k, v in cfg.items() if k not in _META_KEYS}
    if hasattr(kwargs.get("learning_rate"), "keys"):
        kwargs["learning_rate"] = build_lr(kwargs["learning_rate"], num_iters, path + ".learning_rate",
                                           steps_per_epoch)
    accepted = accepted_arguments(cls)
    if accepted is not None and "num_iters" in accepted and "num_iters" not in kwargs:
        kwargs["num_iters"] = steps_per_epoch
    check_arguments(kwargs, accepted, f"{path}: {cfg['name']}", hidden=("last_epoch", "verbose", "num_iters"))
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, AssertionError) as err:
        raise ConfigError(f"{path}: cannot build {cfg['name']}({kwargs}): {err}") from None
