"""``build(cfg, registry)``: turn a config dict with a ``name`` key into an object."""
import inspect

from .errors import UserError
from .registry import Registry


class BuildError(UserError, ValueError):
    """A config section could not be turned into an object (bad name or keyword)."""


def _check_kwargs(obj_cls, kwargs: dict, registry_name: str):
    """Fail naming the class and the keyword when ``kwargs`` has a key the constructor does not take."""
    target = obj_cls.__init__ if inspect.isclass(obj_cls) else obj_cls
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in params.items()
                if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in kwargs:
        if key not in accepted:
            raise BuildError(
                f"{registry_name} '{obj_cls.__name__}' has no argument '{key}'; "
                f"it accepts: {', '.join(accepted) or '(none)'}")


def build(cfg, registry: Registry, key: str = "name", **extra):
    """Build ``registry.get(cfg[key])(**rest_of_cfg, **extra)``.

    ``cfg`` is not modified. Unknown names raise ``BuildError`` listing the registered
    names; unknown keywords raise ``BuildError`` naming the class and the keyword.
    """
    if cfg is None or not hasattr(cfg, "keys"):
        raise BuildError(f"a {registry.name} config must be a mapping with a '{key}' key, got {cfg!r}")
    kwargs = dict(cfg)
    if key not in kwargs:
        raise BuildError(f"{registry.name} config has no '{key}' key: {dict(cfg)}")
    obj_name = kwargs.pop(key)
    try:
        obj_cls = registry.get(obj_name)
    except KeyError as err:
        raise BuildError(err.args[0]) from None
    kwargs.update(extra)
    _check_kwargs(obj_cls, kwargs, registry.name)
    return obj_cls(**kwargs)
