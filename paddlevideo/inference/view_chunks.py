"""Feed a video's views to the model in chunks: memory bounded by the chunk, the same scores.

TSN's head is ``fc(mean over views of pooled features)``, affine after the mean. So for chunks of
sizes ``n_i`` (summing to ``V``) the one-shot logits equal ``sum_i n_i * logits(chunk_i) / V``: the
peak activation memory drops from ``V`` frames to one chunk. A model exported with a free view
dimension (``InputSpec [None, None, 3, S, S]``) takes chunks; one with a fixed view count (exported by
PaddleVideo: ``[-1, 250, 3, 224, 224]``) is run one-shot.
"""
import numpy as np

from .errors import InferenceError
from .predictors import Predictor

DEFAULT_VIEW_CHUNK = 25  # measured: see docs/predict.md "Views in chunks"


def check_view_chunk(view_chunk: int) -> int:
    if view_chunk is None or int(view_chunk) < 0:
        raise InferenceError(f"--view_chunk must be 0 (all views at once) or a positive number, got {view_chunk}")
    return int(view_chunk)


def takes_any_view_count(input_shape) -> bool:
    """True when the model's declared input ``[N, views, 3, H, W]`` leaves ``views`` free (None/-1/a name)."""
    if input_shape is None or len(input_shape) < 2:
        return False
    views = input_shape[1]
    return views is None or isinstance(views, str) or int(views) < 0


def chunk_bounds(views: int, view_chunk: int):
    """``[(start, stop)]`` covering ``range(views)`` in ``ceil(views / view_chunk)`` near-equal chunks.

    Sizes differ by at most one (250 views, chunk 64 -> 63, 63, 62, 62), so the backbone sees at most
    two batch shapes: oneDNN creates its kernels once per shape. ``view_chunk`` 0: one chunk.
    """
    if view_chunk <= 0 or view_chunk >= views:
        return [(0, views)]
    count = -(-views // view_chunk)
    base, extra = divmod(views, count)
    bounds, start = [], 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


class ViewChunkPredictor(Predictor):
    """Wraps a predictor whose model takes any view count: ``run([N, V, 3, S, S]) -> [N, classes]``
    from ``ceil(V / view_chunk)`` runs on ``[N, <=view_chunk, 3, S, S]``, logits averaged weighted by
    chunk size (in float64, returned as float32)."""

    def __init__(self, inner, view_chunk: int):
        self.inner = inner
        self.view_chunk = check_view_chunk(view_chunk)
        self.kind = inner.kind
        self.input_shape = inner.input_shape
        self.source = inner.source

    def run(self, batch):
        views = batch.shape[1]
        bounds = chunk_bounds(views, self.view_chunk)
        if len(bounds) == 1:
            return self.inner.run(batch)
        total = None
        for start, stop in bounds:
            logits = np.asarray(self.inner.run(batch[:, start:stop]), dtype=np.float64) * (stop - start)
            total = logits if total is None else total + logits
        return (total / views).astype(np.float32)

    def describe(self):
        return f"{self.inner.describe()}, views in chunks of {self.view_chunk}"


def with_view_chunks(predictor, view_chunk: int):
    """``predictor`` wrapped to feed chunks of ``view_chunk`` views when its model takes any view count
    and ``view_chunk`` > 0; otherwise ``predictor`` itself (one-shot)."""
    view_chunk = check_view_chunk(view_chunk)
    if view_chunk == 0 or not takes_any_view_count(predictor.input_shape):
        return predictor
    return ViewChunkPredictor(predictor, view_chunk)
