"""PaddleVideo-style YAML configs: attribute access, ``-o key.path=value`` overrides, checking, printing, saving.

Unlike PaddleVideo, override values are parsed as literals only (``ast.literal_eval`` / YAML
scalars), never ``eval()``-ed: an override cannot run code. ``check_config(cfg, mode)`` checks every
key against the declarations in ``config_schema.py`` (unknown keys, types, ranges, keys a mode needs)
and fills in the declared defaults.
"""
import logging
import ast
import copy
import os

import yaml

from .atomic import atomic_write
from .config_check import check_config as _check_config
from .errors import ConfigError
from .spec_checks import closest
from .text_files import read_text
from .yaml_loading import YamlProblem, load_yaml

logger = logging.getLogger(__name__)

__all__ = ["AttrDict", "ConfigError", "check_config", "get_config", "parse_config", "override_config",
           "print_config", "save_config", "parse_literal", "to_plain"]


class AttrDict(dict):
    """A dict whose keys are also attributes: ``cfg.MODEL.backbone.depth``."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(
                f"config has no key '{key}'; keys here: {', '.join(map(str, self.keys())) or '(none)'}"
            ) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __delattr__(self, key):
        del self[key]

    def __deepcopy__(self, memo):
        return AttrDict({k: copy.deepcopy(v, memo) for k, v in self.items()})

    def get(self, key, default=None):  # keeps dict semantics explicit for readers
        return dict.get(self, key, default)


def parse_literal(text):
    """Parse ``text`` as a Python literal, then as a YAML scalar; otherwise keep it as a string.

    ``"3" -> 3``, ``"1e-3" -> 0.001``, ``"True"/"true" -> True``, ``"None"/"null" -> None``,
    ``"[1, 2]" -> [1, 2]``, ``"'abc'" -> "abc"``, ``"abc" -> "abc"``.
    """
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    # YAML turns "a: b" into a mapping; only accept plain scalars/lists/maps the user clearly wrote.
    return value if value is not None or text.strip() in ("null", "~") else text


def _wrap(value, literal_strings: bool):
    """Recursively convert dicts to AttrDict (inside lists too) and, optionally, literal strings."""
    if isinstance(value, dict):
        return AttrDict({k: _wrap(v, literal_strings) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v, literal_strings) for v in value]
    if literal_strings and isinstance(value, str):
        try:
            return _wrap(ast.literal_eval(value), False)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return value
    return value


def to_plain(value):
    """AttrDict tree -> plain dict/list tree (for YAML dumping)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def parse_config(path: str) -> AttrDict:
    """Load a YAML config file into an AttrDict tree (string values that are Python literals become them)."""
    if not os.path.isfile(path):
        hint = ""
        folder = os.path.dirname(path) or "."
        if os.path.isdir(folder):
            near = sorted(f for f in os.listdir(folder) if f.endswith((".yaml", ".yml")))[:10]
            if near:
                hint = f"; YAML files in {folder}: {', '.join(near)}"
        raise ConfigError(f"config file not found: {path}{hint}")
    try:
        raw = load_yaml(read_text(path))
    except YamlProblem as err:
        raise ConfigError(f"config file {path}: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"config file {path}{where} is not valid YAML: {problem}") from None
    if raw is None:
        raise ConfigError(f"config file {path} is empty")
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level, got {type(raw).__name__}")
    return _wrap(raw, literal_strings=True)


def _override_one(node, keys, value, full_path):
    key = keys[0]
    if isinstance(node, list):
        try:
            index = int(key)
        except ValueError:
            raise ConfigError(
                f"override '{full_path}': '{key}' must be a list index (0..{len(node) - 1}) here") from None
        if not -len(node) <= index < len(node):
            raise ConfigError(
                f"override '{full_path}': index {index} out of range for a list of {len(node)} items")
        if len(keys) == 1:
            node[index] = value
        else:
            _override_one(node[index], keys[1:], value, full_path)
        return
    if not isinstance(node, dict):
        raise ConfigError(
            f"override '{full_path}': cannot descend into '{key}', the value above it is "
            f"{type(node).__name__} ({node!r}), not a mapping or list")
    if len(keys) == 1:
        node[key] = value  # a new key is checked by check_config: declared, or an error naming it
        return
    if key not in node:
        near = closest(key, node.keys())
        hint = f"did you mean '{near}'?" if near is not None else \
            f"keys there: {', '.join(map(str, node.keys())) or '(none)'}"
        raise ConfigError(f"override '{full_path}': key '{key}' does not exist; {hint}")
    _override_one(node[key], keys[1:], value, full_path)


def override_config(config: AttrDict, options=None) -> AttrDict:
    """Apply ``["a.b.0.c=value", ...]`` overrides in place and return ``config``."""
    for opt in options or []:
        if not isinstance(opt, str) or "=" not in opt:
            raise ConfigError(f"override '{opt}' must look like key.path=value")
        path, text = opt.split("=", 1)
        keys = [k for k in path.strip().split(".")]
        if not path.strip() or any(k == "" for k in keys):
            raise ConfigError(f"override '{opt}' has an empty key in its path")
        _override_one(config, keys, _wrap(parse_literal(text.strip()), False), path.strip())
    return config


def check_config(config: AttrDict, mode: str) -> AttrDict:
    """Check ``config`` for ``mode`` ("train", "train_validate", "test", "export", "predict") against the
    declared keys and fill in their defaults; returns ``config``. Raises ``ConfigError`` naming the key."""
    return _check_config(config, mode)


def get_config(path: str, overrides=None, show: bool = True, mode=None) -> AttrDict:
    """Load ``path``, apply ``overrides``, check it for ``mode`` (when given) and (when ``show``) log it."""
    config = parse_config(path)
    override_config(config, overrides)
    if mode is not None:
        check_config(config, mode)
    if show:
        print_config(config)
    return config


def _lines(node, indent):
    pad = " " * indent
    for key, value in node.items():
        if isinstance(value, dict):
            yield f"{pad}{key} :"
            yield from _lines(value, indent + 4)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            yield f"{pad}{key} :"
            for item in value:
                yield from _lines(item, indent + 4)
        else:
            yield f"{pad}{key} : {value}"
        if indent == 0 and str(key).isupper():
            yield "-" * 60


def format_config(config) -> str:
    """The indented text that ``print_config`` logs."""
    return "\n".join(_lines(config, 0))


def print_config(config, logger=None):
    """Log the whole config, one key per line, nested keys indented by 4."""
    logger = logger or logging.getLogger(__name__)
    logger.info("-" * 60)
    for line in _lines(config, 0):
        logger.info(line)


def save_config(config, output_dir: str, name: str = "config.yaml") -> str:
    """Write the (overridden) config as YAML into ``output_dir``; returns the path."""
    path = os.path.join(output_dir, name)
    with atomic_write(path) as (f, _):
        yaml.safe_dump(to_plain(config), f, sort_keys=False, allow_unicode=True)
    return path
