"""From logits to printed results: softmax, top-k, PaddleVideo's lines, optional class names and JSON."""
import json
import os

import numpy as np

from ..utils.atomic import atomic_write
from ..utils.text_files import read_lines
from .errors import InferenceError


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``[N, C]`` logits -> float32 ``[N, C]``.

    Paddle's own kernel when Paddle is there (as PaddleVideo does: the printed score, a float32
    shown with 16+ digits, then matches it to the last digit); numpy otherwise.
    """
    logits = np.asarray(logits, dtype=np.float32)
    try:
        import paddle
        import paddle.nn.functional as F
    except ImportError:
        paddle = None
    if paddle is not None:
        return F.softmax(paddle.to_tensor(logits), axis=-1).numpy()
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def merge_views(logits: np.ndarray, num_files: int) -> np.ndarray:
    """``[B, C]`` -> ``[num_files, C]``: when a graph returns several rows per file, average them (PaddleVideo)."""
    logits = np.asarray(logits)
    if logits.ndim == 1:
        logits = logits[None]
    if logits.shape[0] != num_files:
        if logits.shape[0] % num_files:
            raise InferenceError(f"the model returned {logits.shape[0]} rows for {num_files} videos")
        logits = logits.reshape([num_files, logits.shape[0] // num_files] + list(logits.shape[1:])).mean(axis=1)
    return logits


def postprocess(logits, files, top_k: int = 1, label_names=None):
    """``logits [B, C]`` for ``files`` -> one dict per file:
    ``{"file", "classes": [int]*k, "scores": [float]*k, "labels": [str]*k (with label_names)}``, best first."""
    probs = softmax(merge_views(logits, len(files)))
    top_k = max(1, min(int(top_k), probs.shape[1]))
    results = []
    for path, row in zip(files, probs):
        classes = np.argsort(-row, kind="stable")[:top_k]
        result = {"file": path, "classes": [int(c) for c in classes],
                  "scores": [float(row[c]) for c in classes]}
        if label_names is not None:
            result["labels"] = [label_names.get(int(c), "") for c in classes]
        results.append(result)
    return results


def format_result(result: dict) -> str:
    """PaddleVideo's lines for one file (``Current video file: ...`` then tab + ``top-j class/score``).

    With a label list a ``top-j name: archery`` line follows each class/score pair, so PaddleVideo's
    own lines stay exactly as they are for scripts that parse them."""
    lines = [f"Current video file: {result['file']}"]
    labels = result.get("labels")
    for j, (cls, score) in enumerate(zip(result["classes"], result["scores"])):
        lines.append(f"\ttop-{j + 1} class: {cls}")
        lines.append(f"\ttop-{j + 1} score: {score}")
        if labels and labels[j]:
            lines.append(f"\ttop-{j + 1} name: {labels[j]}")
    return "\n".join(lines)


def load_label_list(path: str) -> dict:
    """A Kinetics-style label file (``<index> <name>`` per line) -> ``{index: name}``."""
    if not os.path.isfile(path):
        raise InferenceError(f"label list not found: {path}")
    names = {}
    for lineno, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        fields = line.split(maxsplit=1)
        if len(fields) != 2 or not fields[0].lstrip("-").isdigit():
            raise InferenceError(f"{path} line {lineno}: expected '<class index> <name>', got {line.strip()!r}")
        names[int(fields[0])] = fields[1].strip()
    return names


def write_json(results, path: str, extra=None):
    """Write ``{"results": [...], **extra}`` to ``path`` (UTF-8, indented); folders are created."""
    payload = dict(extra or {})
    payload["results"] = results
    with atomic_write(path) as (f, _):
        json.dump(payload, f, indent=2, ensure_ascii=False)
    return path
