"""What ``main.py`` runs: ``train_model`` (train, ``--validate``, resume, fine-tune) and ``test_model``.

They are loaded on first use, so Paddle-free parts of this package (``metrics_log``: the ``metrics.jsonl``
reader that ``tools/plot_log.py`` and the demo use) import without Paddle.
"""
import importlib

_WHERE = {"output_dir_of": ".context", "test_model": ".test", "train_model": ".train"}

__all__ = list(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
