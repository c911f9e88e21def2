"""Top-k accuracy: the one implementation behind the head's loss, validation and the test metrics."""
import paddle


def topk_accuracy(scores, labels, k: int):
    """Share of rows of ``scores [N, C]`` whose label (``labels``, N int64) is among the ``k`` highest.

    Returns a float32 scalar tensor. ``k`` is capped at the class count C (PaddleVideo's
    ``paddle.metric.accuracy(k=5)`` fails with fewer than 5 classes).
    """
    k = min(int(k), int(scores.shape[-1]))
    return paddle.metric.accuracy(input=scores, label=labels.reshape([-1, 1]).astype("int64"), k=k)
