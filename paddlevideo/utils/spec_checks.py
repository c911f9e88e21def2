"""The two checks every config-built object shares: an op spec's shape and a constructor's arguments.

``op_spec_items`` accepts ``{OpName: {kwargs}}`` or ``{OpName: null}`` (a pipeline ``transform`` item, an
exported ``.yml``'s ``preprocess`` item). ``check_arguments`` refuses a keyword a constructor does not take,
naming the owner, the keyword, what it accepts and the closest accepted name. Each caller passes its own
error class (``ConfigError``, ``BuildError``, ``InferenceError``), so its callers' ``except`` clauses still
hold. Imports nothing heavy (no Paddle): the config check and the pipeline ops use it before Paddle loads.
"""
import difflib
import inspect

from .errors import ConfigError

__all__ = ["accepted_arguments", "check_arguments", "closest", "op_spec_items"]


def closest(word, candidates, cutoff: float = 0.6):
    """The candidate closest to ``word`` (case-insensitive, difflib), or None when none is within ``cutoff``."""
    lowered = {str(c).lower(): c for c in candidates}
    found = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[found[0]] if found else None


def op_spec_items(spec, where: str = "an op spec", error=ConfigError) -> tuple:
    """``{OpName: {kwargs} | None}`` -> ``(OpName, {kwargs})``; any other shape raises ``error`` naming ``where``."""
    if not hasattr(spec, "items") or len(spec) != 1:
        raise error(f"{where}: got {spec!r}, expected a one-key mapping `OpName: {{args}}` or `OpName:`")
    (name, kwargs), = spec.items()
    if kwargs is not None and not hasattr(kwargs, "items"):
        raise error(f"{where}.{name}: got {kwargs!r}, expected a mapping of {name}'s arguments or nothing")
    return str(name), dict(kwargs or {})


def accepted_arguments(target):
    """The keyword names ``target`` (a class or a function) takes, without ``self``; None when it takes
    ``**kwargs`` or its signature cannot be read (then anything is accepted)."""
    function = target.__init__ if inspect.isclass(target) else target
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return None
    return [n for n, p in params.items() if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _same_stem(word, candidates):
    """The first candidate whose first ``_``-separated part (3 letters or more) starts ``word``
    (``num_seg`` -> ``num_classes``, ``dropout`` -> ``drop_ratio``), or None."""
    word = str(word).lower()
    for candidate in candidates:
        stem = str(candidate).lower().split("_")[0]
        if len(stem) >= 3 and word.startswith(stem):
            return candidate
    return None


def check_arguments(given, accepted, owner: str, error=ConfigError, hidden=(), key_path: str = None):
    """Raise ``error`` for the first name in ``given`` that is not in ``accepted`` (None: anything goes).

    The line reads ``<owner> has no argument '<key>'; it accepts: a, b; did you mean 'a'?``; names in
    ``hidden`` are accepted but not listed (set by the code, e.g. ``last_epoch``). With ``key_path`` (the
    config section, e.g. ``MODEL.head``) the line starts ``unknown key 'MODEL.head.<key>': ``.
    """
    if accepted is None:
        return
    for key in given:
        if key in accepted:
            continue
        shown = [n for n in accepted if n not in hidden]
        near = closest(key, shown)
        near = near if near is not None else _same_stem(key, shown)
        lead = f"unknown key '{key_path}.{key}': " if key_path else ""
        hint = f"; did you mean '{near}'?" if near is not None else ""
        raise error(f"{lead}{owner} has no argument '{key}'; it accepts: {', '.join(shown) or '(none)'}{hint}")
