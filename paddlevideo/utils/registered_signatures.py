"""The constructor arguments of the registered model classes, read from their source without Paddle.

The config is checked before Paddle is imported (a typo fails in a fraction of a second), so the
backbone, head and recognizer classes cannot be imported to ``inspect`` them. Their signatures are read
from ``paddlevideo/modeling/`` with ``ast`` instead: each class decorated ``@<REGISTRY>.register()``, its
``__init__`` (or its nearest base's), and the registry's name from ``modeling/registry.py``. A test checks
the result against ``inspect.signature`` of the imported classes.
"""
import ast
import functools
import glob
import os

MODELING = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modeling")

__all__ = ["registered_arguments", "registry_label"]


def _parse(path):
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), filename=path)


def _registration(decorator):
    """``@REG.register()`` / ``@REG.register("alias")`` / ``@REG.register`` -> ``(REG, alias or None)``."""
    call = decorator if isinstance(decorator, ast.Call) else None
    target = call.func if call else decorator
    if not (isinstance(target, ast.Attribute) and target.attr == "register" and isinstance(target.value, ast.Name)):
        return None
    alias = None
    if call and call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        alias = call.args[0].value
    return target.value.id, alias


def _init_arguments(cls, classes, seen=()):
    """The keyword names of ``cls.__init__`` (its nearest base's when it has none); None when unknown or
    when it takes ``**kwargs``."""
    for item in cls.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            if item.args.kwarg is not None:
                return None
            return [a.arg for a in item.args.args[1:] + item.args.kwonlyargs]
    for base in cls.bases:
        name = base.id if isinstance(base, ast.Name) else None
        if name in classes and name not in seen:
            return _init_arguments(classes[name], classes, seen + (name,))
    return None  # a base outside the package (e.g. paddle.nn.Layer): not read here, not checked


@functools.lru_cache(maxsize=None)
def _modeling_classes():
    classes, registered = {}, {}
    for path in sorted(glob.glob(os.path.join(MODELING, "**", "*.py"), recursive=True)):
        for node in _parse(path).body:
            if not isinstance(node, ast.ClassDef):
                continue
            classes[node.name] = node
            for decorator in node.decorator_list:
                found = _registration(decorator)
                if found:
                    registered.setdefault(found[0], {})[found[1] or node.name] = node.name
    return classes, registered


def registered_arguments(registry: str) -> dict:
    """``{registered name: [constructor keyword names] or None}`` for the classes registered in ``registry``
    (the variable name in ``modeling/registry.py``, e.g. ``"HEADS"``); None: the arguments are not known."""
    classes, registered = _modeling_classes()
    return {name: _init_arguments(classes[cls], classes) for name, cls in registered.get(registry, {}).items()}


@functools.lru_cache(maxsize=None)
def registry_label(registry: str) -> str:
    """The name a registry gives itself (``HEADS = Registry("head")`` -> ``"head"``)."""
    for node in _parse(os.path.join(MODELING, "registry.py")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == registry for t in node.targets):
            if isinstance(node.value, ast.Call) and node.value.args and isinstance(node.value.args[0], ast.Constant):
                return str(node.value.args[0].value)
    return registry.lower()
