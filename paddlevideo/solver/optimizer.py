"""``build_optimizer``: the ``OPTIMIZER`` section -> a ``paddle.optimizer`` instance.

``OPTIMIZER: {name: Momentum, momentum: 0.9, learning_rate: {...}, weight_decay: {name: L2, value: 1e-4},
grad_clip: {name: ClipGradByGlobalNorm, value: 40.0}}``; ``weight_decay`` may also be a plain float
(Paddle's own meaning: L2 for Momentum, decoupled for AdamW).
"""
import inspect

import paddle

from ..utils.errors import ConfigError
from ..utils.spec_checks import accepted_arguments, check_arguments

_DECAYS = {"L1": paddle.regularizer.L1Decay, "L2": paddle.regularizer.L2Decay}
_CLIPS = {"ClipGradByGlobalNorm": paddle.nn.ClipGradByGlobalNorm,
          "ClipGradByNorm": paddle.nn.ClipGradByNorm,
          "ClipGradByValue": paddle.nn.ClipGradByValue}


def _weight_decay(cfg):
    if cfg is None or isinstance(cfg, (int, float)):
        return cfg
    name = str(cfg.get("name", "")).upper() if hasattr(cfg, "get") else ""
    for key, cls in _DECAYS.items():
        if key in name:  # PaddleVideo matches "L2" anywhere in the name ("L2", "l2_decay")
            return cls(float(cfg.get("value", 0.0)))
    raise ConfigError(f"OPTIMIZER.weight_decay must be a number or {{name: L1|L2, value: float}}, got {cfg!r}")


def _grad_clip(cfg):
    if cfg is None:
        return None
    if isinstance(cfg, (int, float)):
        return paddle.nn.ClipGradByGlobalNorm(float(cfg))
    name = cfg.get("name") if hasattr(cfg, "get") else None
    if name not in _CLIPS:
        raise ConfigError(f"OPTIMIZER.grad_clip.name must be one of {', '.join(_CLIPS)}, got {name!r}")
    if name == "ClipGradByValue":
        return _CLIPS[name](max=float(cfg.get("value")))
    return _CLIPS[name](float(cfg.get("value")))


def build_optimizer(cfg, lr_scheduler, model=None, parameters=None):
    """Build ``paddle.optimizer.<cfg.name>(lr_scheduler, parameters=..., **rest_of_cfg)``.

    ``parameters`` defaults to ``model.parameters()``. Raises ``ConfigError`` naming the key for an
    unknown optimizer, decay, clip or argument.
    """
    if not hasattr(cfg, "keys") or "name" not in cfg:
        raise ConfigError(f"OPTIMIZER must be a mapping with a 'name' key, got {cfg!r}")
    cls = getattr(paddle.optimizer, str(cfg["name"]), None)
    if not (inspect.isclass(cls) and issubclass(cls, paddle.optimizer.Optimizer)):
        raise ConfigError(f"OPTIMIZER.name '{cfg['name']}' is not a paddle.optimizer class "
                          "(e.g. Momentum, SGD, Adam, AdamW)")
    kwargs = {k: v for k, v in cfg.items() if k not in ("name", "learning_rate")}
    if "weight_decay" in kwargs:
        kwargs["weight_decay"] = _weight_decay(kwargs["weight_decay"])
    if "grad_clip" in kwargs:
        kwargs["grad_clip"] = _grad_clip(kwargs["grad_clip"])
    # learning_rate and parameters are passed by the code, not the section
    accepted = accepted_arguments(cls)
    check_arguments(kwargs, accepted and [n for n in accepted if n not in ("parameters", "learning_rate")],
                    f"OPTIMIZER: {cfg['name']}")
    if parameters is None:
        if model is None:
            raise ValueError("build_optimizer needs model or parameters")
        parameters = model.parameters()
    return cls(learning_rate=lr_scheduler, parameters=parameters, **kwargs)
