"""One registry type for every buildable thing (datasets, pipeline ops, models, metrics)."""


class Registry:
    """Maps names to classes or functions.

    Usage::

        BACKBONES = Registry("backbone")

        @BACKBONES.register()
        class ResNet: ...

        @BACKBONES.register("resnet_alias")
        class Other: ...
    """

    def __init__(self, name: str):
        self._name = name
        self._obj_map = {}

    @property
    def name(self) -> str:
        return self._name

    def register(self, name=None):
        """Decorator registering a class/function under ``name`` (default: its ``__name__``)."""
        if callable(name) and not isinstance(name, str):
            # Allows the bare-decorator form ``@REG.register`` as well.
            return self._add(name.__name__, name)

        def decorator(obj):
            return self._add(name or obj.__name__, obj)

        return decorator

    def _add(self, name, obj):
        if name in self._obj_map and self._obj_map[name] is not obj:
            raise KeyError(f"'{name}' is already registered in the {self._name} registry")
        self._obj_map[name] = obj
        return obj

    def get(self, name: str):
        if name not in self._obj_map:
            known = ", ".join(sorted(self._obj_map)) or "(none)"
            raise KeyError(
                f"'{name}' is not a registered {self._name}; registered {self._name} names: {known}")
        return self._obj_map[name]

    def __contains__(self, name) -> bool:
        return name in self._obj_map

    def names(self):
        return sorted(self._obj_map)

    def __repr__(self):
        return f"Registry({self._name!r}, {self.names()})"
