"""Top-k accuracy: the one implementation behind the training batch figures, validation and the test metric."""
import paddle


def topk_accuracy(scores, labels, k: int):
    """Share of rows of ``scores [N, C]`` whose label (``labels``, N int64) is among the ``k`` highest.

    Returns a float32 scalar tensor. ``k`` is capped at the class count C (PaddleVideo's
    ``paddle.metric.accuracy(k=5)`` fails with fewer than 5 classes).
    """
    k = min(int(k), int(scores.shape[-1]))
    return paddle.metric.accuracy(input=scores, label=labels.reshape([-1, 1]).astype("int64"), k=k)


def set_accuracies(scores, labels, topk=(1, 5)) -> dict:
    """``{k: float}``: top-k accuracy of a whole set (``scores [M, C]``, ``labels [M, 1]``) for each ``k``.

    Validation (``top1``/``top5``) and ``CenterCropMetric`` (``avg_acc1``/``avg_acc5``) both report these.
    """
    return {int(k): float(topk_accuracy(scores, labels, k)) for k in topk}
