"""``check_config(cfg, mode)``: a loaded config against the declared ``SCHEMA``, before any work.

Each failure is one ``ConfigError`` line naming the key: an undeclared key (with the closest declared
one), an unknown model class or constructor argument (``MODEL``, its backbone and head), a value of
the wrong type, out of range or above its sanity cap (with what was expected), or a key the mode needs.
Absent keys with a declared default are filled in (``_fill_default``, the one place defaults are
written), so code reads ``cfg.log_interval`` directly. Imports nothing heavy (no Paddle).
"""
import copy
import os
import re

from .config_schema import MODE_TEXT, MODES, NO_DEFAULT, OP_ARGUMENTS, SCHEMA
from .errors import ConfigError
from .registered_signatures import registered_arguments, registry_label
from .spec_checks import check_arguments, closest, op_spec_items

__all__ = ["check_config", "check_op_spec", "closest", "inference_settings", "schema_rows", "schema_table",
           "setting"]

_WRITES_OUTPUT = ("train", "train_validate", "test")  # checkpoints, logs, metrics.jsonl
_KIND_TEXT = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
              "null": "null", "section": "a mapping", "list": "a list", "ops": "a list of ops", "any": "anything"}


def _kind_of(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict):
        return "section"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _matches(kind, value_kind):
    if kind == "any" or kind == value_kind:
        return True
    return (kind == "float" and value_kind == "int") or (kind == "ops" and value_kind == "list")


def _fmt(number):
    return str(int(number)) if float(number).is_integer() else str(number)


def _range_text(spec, with_cap=True):
    """The allowed range; ``with_cap`` False leaves out a sanity cap (messages name it only when exceeded)."""
    if spec.cap is not None and with_cap:
        return f"in [{_fmt(spec.min)}, {_fmt(spec.cap)}]"
    if spec.range_doc:
        return spec.range_doc
    if spec.choices:
        return "one of " + ", ".join(map(str, spec.choices))
    if spec.gt is not None:
        return f"> {_fmt(spec.gt)}"
    if spec.min is not None and spec.max is not None:
        return f"in [{_fmt(spec.min)}, {_fmt(spec.max)}{')' if spec.max_open else ']'}"
    if spec.min is not None:
        return f">= {_fmt(spec.min)}"
    if spec.length:
        return f"{spec.length} numbers"
    if spec.pattern:
        return "containing " + " or ".join(spec.pattern.split("|"))
    return ""


def _expected(spec, with_cap=False):
    rng = _range_text(spec, with_cap)
    parts = []
    for kind in spec.kinds:
        text = _KIND_TEXT[kind]
        if kind in ("int", "float") and rng and not spec.choices:
            text += " " + rng
        elif kind == "list" and spec.length:
            text = f"a list of {spec.length} numbers"
        elif kind == "str" and (spec.choices or spec.pattern):
            text = f"a string {rng}" if spec.pattern else rng
        elif kind == "int" and spec.choices:
            text = rng
        parts.append(text)
    return " or ".join(parts)


def _fail(path, value, spec):
    raise ConfigError(f"{path}: got {value!r}, expected {_expected(spec)}")


def _check_value(value, spec, path, mode):
    if spec.refused:
        if value:
            raise ConfigError(f"{path}: {spec.refused}; remove the key (got {value!r})")
        return
    value_kind = _kind_of(value)
    if not any(_matches(kind, value_kind) for kind in spec.kinds):
        _fail(path, value, spec)
    if value_kind in ("int", "float"):
        if spec.choices and value not in spec.choices:
            _fail(path, value, spec)
        if spec.gt is not None and not value > spec.gt:
            _fail(path, value, spec)
        if spec.min is not None and value < spec.min:
            _fail(path, value, spec)
        if spec.max is not None and (value >= spec.max if spec.max_open else value > spec.max):
            _fail(path, value, spec)
        if spec.cap is not None and value > spec.cap:
            raise ConfigError(f"{path}: got {value!r}, expected {_expected(spec, with_cap=True)}")
    elif value_kind == "str" and spec.choices:
        chosen = value.upper() if spec.ignore_case else value
        if chosen not in spec.choices:
            _fail(path, value, spec)
    elif value_kind == "str" and spec.pattern:
        if not re.search(spec.pattern, value.upper()):
            _fail(path, value, spec)
    elif value_kind == "str" and spec.check:
        problem = spec.check(value)
        if problem:
            shown = repr(value) if len(value) <= 60 else f"{value[:40]!r}... ({len(value)} characters)"
            raise ConfigError(f"{path}: got {shown}, {problem}")
    elif value_kind == "list" and "ops" in spec.kinds:
        _check_ops(value, path)
    elif value_kind == "list" and spec.length:
        if len(value) != spec.length or not all(_kind_of(v) in ("int", "float") for v in value):
            _fail(path, value, spec)
    elif value_kind == "section" and "any" not in spec.kinds:
        _check_section(value, spec, path, mode)
    if spec.not_file and value_kind == "str" and mode in _WRITES_OUTPUT and os.path.isfile(value):
        raise ConfigError(f"{path}: got {value!r}, an existing file; expected a folder (existing or new)")


def _check_ops(items, path):
    for i, item in enumerate(items):
        check_op_spec(item, f"{path}.{i}")


def _check_op_arguments(name, args, path):
    """The declared size arguments of op ``name`` (``OP_ARGUMENTS``); its other arguments are the op's."""
    if name in OP_ARGUMENTS:
        _check_section(args, OP_ARGUMENTS[name], path, "predict")  # declares no default, so fills nothing


def check_op_spec(spec, where: str = "an op spec") -> tuple:
    """One op spec ``{OpName: {kwargs}}`` checked as in a config's ``transform`` list: its shape, and its
    sizes against the schema's bounds (``OP_ARGUMENTS``). Returns ``(OpName, kwargs)``; raises
    ``ConfigError`` naming ``<where>.<OpName>.<argument>``."""
    name, kwargs = op_spec_items(spec, where)
    _check_op_arguments(name, kwargs, f"{where}.{name}")
    return name, kwargs


def _constructor_arguments(node, spec, prefix):
    """``(class name, its arguments)`` for a section built through a modeling registry, None otherwise
    (or when the class is not named yet: a missing name is reported as a missing key)."""
    name = node.get(spec.name_key)
    if spec.registry is None or not isinstance(name, str):
        return None
    known = registered_arguments(spec.registry)
    if name not in known:
        raise ConfigError(f"{prefix}{spec.name_key}: got {name!r}, expected a registered "
                          f"{registry_label(spec.registry)}: {', '.join(sorted(known)) or '(none)'}")
    return name, known[name]


def _check_section(node, spec, path, mode):
    prefix = f"{path}." if path else ""
    declared = spec.children
    constructor = _constructor_arguments(node, spec, prefix)
    if constructor is not None:
        name, accepted = constructor
        check_arguments([k for k in node if k not in declared], accepted, name, key_path=path)
    if spec.op and isinstance(node.get("name"), str):
        _check_op_arguments(node["name"], node, path)
    for key in node:
        if key not in declared and not spec.open:
            known = [k for k, s in declared.items() if not s.refused]
            near = closest(key, known)
            hint = f"; did you mean '{prefix}{near}'?" if near is not None else \
                f"; known keys{' in ' + path if path else ''}: {', '.join(known)}"
            raise ConfigError(f"unknown key '{prefix}{key}'{hint}")
    for name, child in declared.items():
        if name in node:
            _check_value(node[name], child, prefix + name, mode)
        elif mode in child.required:
            raise ConfigError(f"missing key '{prefix}{name}': {MODE_TEXT[mode]} needs it "
                              f"({child.doc.split(' (')[0]})")
        else:
            _fill_default(node, name, child)


def _fill_default(node, name, spec):
    """The one place a declared default is written: ``node[name]`` when ``spec`` has a default (a callable
    default is computed from ``node``, whose earlier keys are already filled)."""
    if spec.default is not NO_DEFAULT:
        node[name] = spec.default(node) if callable(spec.default) else copy.deepcopy(spec.default)


def check_config(cfg, mode: str):
    """Check ``cfg`` (an ``AttrDict`` tree) for ``mode`` and fill in declared defaults; returns ``cfg``.

    ``mode``: "train", "train_validate" (training with ``--validate``), "test", "export" or "predict".
    Raises ``ConfigError`` (one line naming the key, the value and what was expected).
    """
    if mode not in MODES:
        raise ValueError(f"check_config mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not isinstance(cfg, dict):
        raise ConfigError(f"a config must be a mapping, got {type(cfg).__name__}")
    _check_section(cfg, SCHEMA, "", mode)
    if mode in _WRITES_OUTPUT and not cfg.get("output_dir"):
        default_dir = os.path.join("output", str(cfg["model_name"]))
        if os.path.isfile(default_dir):
            raise ConfigError(f"output_dir: the default {default_dir!r} is an existing file; expected a folder "
                              "(set output_dir)")
    return cfg


def _default_text(spec):
    if spec.shown:
        return spec.shown
    if spec.default is NO_DEFAULT:
        return ""
    return "null" if spec.default is None else str(spec.default).lower() if isinstance(spec.default, bool) \
        else str(spec.default)


def _required_text(spec):
    if set(spec.required) == set(MODES):
        return "required"
    order = [m for m in MODES if m in spec.required]
    if set(order) >= {"train", "train_validate"}:
        order = ["train"] + [m for m in order if m not in ("train", "train_validate")]
    return "required for " + ", ".join(MODE_TEXT[m].replace("training with --validate", "--validate")
                                       .replace("training", "train") for m in order) if order else ""


def schema_rows(spec=SCHEMA, path=""):
    """``(key, type, range, default, meaning)`` for every declared key, depth first."""
    for name, child in spec.children.items():
        key = f"{path}.{name}" if path else name
        kinds = " or ".join("mapping" if k == "section" else "op list" if k == "ops" else k for k in child.kinds)
        if child.refused:
            yield key, "refused", "false or absent", "", child.refused
            continue
        default, required = _default_text(child), _required_text(child)
        default = f"{default} ({required})" if default and required else default or required
        meaning = child.doc + ("; other keys: constructor arguments" if child.open and "other keys" not in child.doc
                               else "")
        if child.registry:
            meaning += f"; the check knows each registered {registry_label(child.registry)}'s arguments"
        yield key, kinds, _range_text(child), default, meaning
        if child.children:
            yield from schema_rows(child, key)
    if spec is SCHEMA:
        for op, op_spec in OP_ARGUMENTS.items():
            for name, child in op_spec.children.items():
                yield (f"PIPELINE.*.{op}.{name}", " or ".join(child.kinds), _range_text(child), "",
                       f"{op}'s {child.doc}, wherever the op is configured")


def schema_table():
    """The Markdown table of ``schema_rows`` (docs/config.md holds it verbatim)."""
    lines = ["| key | type | range | default | meaning |", "|---|---|---|---|---|"]
    for row in schema_rows():
        lines.append("| " + " | ".join(f"`{row[0]}`" if i == 0 else str(cell).replace("|", "\\|")
                                       for i, cell in enumerate(row)) + " |")
    return "\n".join(lines)


def setting(cfg, path: str):
    """The value at dotted ``path`` in ``cfg``, or its declared default when the config does not set it.

    A checked config already holds every default (read it directly); this serves configs built in code.
    The default comes from the walker's own ``_fill_default``, in declaration order, so a derived default
    (``valid_batch_size``) sees the section as ``check_config`` would fill it. ``KeyError`` when the key is
    neither set nor has a default.
    """
    node, spec = cfg, SCHEMA
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node, spec = node[part], spec.children[part]
            continue
        if spec.children[part].default is NO_DEFAULT:
            raise KeyError(path)
        filled = dict(node) if isinstance(node, dict) else {}
        for name, child in spec.children.items():
            if name not in filled:
                _fill_default(filled, name, child)
            if name == part:
                return filled[part]
    return node


def inference_settings(section, mode: str = "predict") -> dict:
    """The ``INFERENCE`` section checked against the schema, with the schema's defaults filled in.

    Returns a plain ``{key: value}`` dict (``section`` is not modified); ``backend`` is present only when
    set. ``mode`` "export" also requires ``num_seg`` and ``target_size``. Raises ``ConfigError`` naming
    ``INFERENCE.<key>`` for a missing section, an unknown key or a bad value.
    """
    if not isinstance(section, dict):
        raise ConfigError("the config has no INFERENCE section (expected e.g. "
                          "{name: ppTSN_Inference_helper, num_seg: 25, target_size: 224})")
    checked = copy.deepcopy(dict(section))
    _check_section(checked, SCHEMA.children["INFERENCE"], "INFERENCE", mode)
    return checked
