"""``build(cfg, registry)``: turn a config dict with a ``name`` key into an object."""
from .errors import UserError
from .registry import Registry
from .spec_checks import accepted_arguments, check_arguments


class BuildError(UserError, ValueError):
    """A config section could not be turned into an object (bad name or keyword)."""


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
    check_arguments(kwargs, accepted_arguments(obj_cls), f"{registry.name} '{obj_cls.__name__}'", BuildError)
    return obj_cls(**kwargs)
