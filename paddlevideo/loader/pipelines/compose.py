"""``Compose``: build the ops of a YAML pipeline section and run them in order on a ``results`` dict."""
from ...utils.build_utils import BuildError, build
from ...utils.spec_checks import op_spec_items
from ..registry import PIPELINES
from .normalize import fuse_ops


def _build_op(cfg, where: str):
    try:
        return build(cfg, PIPELINES)
    except BuildError as err:
        raise BuildError(f"{where}: {err}") from None


def _transform_item(item, where: str):
    """``{OpName: {kwargs} | None}`` -> the op."""
    if callable(item):
        return item
    name, kwargs = op_spec_items(item, where, BuildError)
    return _build_op({"name": name, **kwargs}, where)


class Compose:
    """Run pipeline ops in order: ``results dict -> results dict``.

    ``pipeline`` is a YAML section such as ``cfg.PIPELINE.train`` (``decode``/``sample`` as
    ``{name: Op, ...}`` mappings and ``transform`` as a list of ``{OpName: kwargs}``, in the order
    given) or a plain list of ops / op configs. ``ops`` lists them as configured; ``__call__`` runs
    them with ``Image2Array`` + ``Normalization`` fused into one pass (identical numbers).
    """

    def __init__(self, pipeline):
        self.ops = []
        if hasattr(pipeline, "keys"):
            sections = list(pipeline.items())
        elif isinstance(pipeline, (list, tuple)):
            sections = [("ops", list(pipeline))]
        else:
            raise BuildError(f"a pipeline must be a mapping (decode/sample/transform) or a list of ops, "
                             f"got {type(pipeline).__name__}")
        for key, section in sections:
            if section is None:
                continue
            if callable(section):
                self.ops.append(section)
            elif hasattr(section, "keys"):
                self.ops.append(_build_op(section, f"pipeline '{key}'"))
            elif isinstance(section, (list, tuple)):
                for i, item in enumerate(section):
                    self.ops.append(_transform_item(item, f"pipeline '{key}' item {i}"))
            else:
                raise BuildError(f"pipeline '{key}' must be an op mapping or a list of ops, got {section!r}")
        self._run = fuse_ops(self.ops)

    def __call__(self, results: dict) -> dict:
        for op in self._run:
            results = op(results)
        return results

    def __repr__(self):
        return "Compose(" + ", ".join(type(op).__name__ for op in self.ops) + ")"
