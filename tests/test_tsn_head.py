"""TSNHead: consensus and shapes, fc init, loss/top-k as PaddleVideo, label smoothing, per-sample losses, ranks."""
import numpy as np
import pytest

import paddlevideo  # noqa: F401  (CPU runtime before paddle)
import paddle
import paddle.nn.functional as F

from paddlevideo.modeling import TSNHead
from paddlevideo.modeling.heads.base import LabelLayoutError
from paddlevideo.utils.errors import UserError


def _head(**kwargs):
    args = dict(num_classes=10, in_channels=16)
    args.update(kwargs)
    head = TSNHead(**args)
    head.init_weights()
    return head


def test_forward_is_pool_then_segment_mean_then_fc():
    paddle.seed(0)
    head = _head()
    head.eval()
    x = paddle.randn([2 * 3, 16, 4, 4])
    scores = head(x, 3)
    assert scores.shape == [2, 10]
    pooled = x.numpy().mean(axis=(2, 3)).reshape(2, 3, 16).mean(axis=1)
    expected = pooled @ head.fc.weight.numpy() + head.fc.bias.numpy()
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_fc_init_and_names():
    paddle.seed(0)
    head = _head(num_classes=400, in_channels=2048, std=0.01)
    weight, bias = head.fc.weight, head.fc.bias
    assert list(weight.shape) == [2048, 400] and list(bias.shape) == [400]
    assert abs(weight.numpy().std() - 0.01) < 2e-4 and abs(weight.numpy().mean()) < 2e-4
    assert (bias.numpy() == 0).all()
    assert (weight.name, bias.name) == ("fc_0.w_0", "fc_0.b_0")


def test_dropout_only_in_training_and_optional():
    paddle.seed(0)
    head = _head(drop_ratio=0.5)
    x = paddle.randn([4, 16, 2, 2])
    head.train()
    assert not np.allclose(head(x, 2).numpy(), head(x, 2).numpy())
    head.eval()
    np.testing.assert_array_equal(head(x, 2).numpy(), head(x, 2).numpy())
    assert _head(drop_ratio=0).dropout is None


def test_dropout_is_one_mask_per_clip_after_the_consensus():
    """PaddleVideo's order (heads/tsn_head.py): mean over segments, then dropout on [N, C].

    Identical segments of ones and an identity fc: dropout after the mean gives exactly 0 or
    1/(1-p) per channel; per-frame dropout before the mean would give multiples of 1/(T(1-p)).
    """
    paddle.seed(3)
    p, channels, segs = 0.5, 16, 3
    head = _head(num_classes=channels, in_channels=channels, drop_ratio=p)
    head.fc.weight.set_value(np.eye(channels, dtype="float32"))
    head.fc.bias.set_value(np.zeros(channels, dtype="float32"))
    head.train()
    out = head(paddle.ones([8 * segs, channels, 2, 2]), segs).numpy()
    values = np.unique(np.round(out, 5))
    np.testing.assert_allclose(values, [0.0, 1.0 / (1.0 - p)], atol=1e-5)


def test_loss_matches_cross_entropy_and_accuracy():
    head = _head(num_classes=6)
    scores = paddle.to_tensor([[9., 8, 7, 6, 5, 4], [0, 1, 2, 3, 4, 5], [5, 0.5, 0, 0, 0, 1], [0, 1, 2, 3, 4, 5]])
    labels = paddle.to_tensor([[0], [5], [1], [0]], dtype="int64")  # right, right, 2nd best, worst
    out = head.loss(scores, labels)
    assert set(out) == {"loss", "top1", "top5"}
    np.testing.assert_allclose(float(out["loss"]), float(F.cross_entropy(scores, labels)), rtol=1e-6)
    assert float(out["top1"]) == pytest.approx(2 / 4)
    assert float(out["top5"]) == pytest.approx(3 / 4)
    same = head.loss(scores, [labels])  # list form, as train_step passes data_batch[1:]
    assert float(same["loss"]) == pytest.approx(float(out["loss"]))


def test_label_smoothing_in_training_only():
    head = _head(num_classes=5, ls_eps=0.1)
    scores = paddle.to_tensor([[2., 1, 0, 0, -1], [0, 0, 3, 0, 0]])
    labels = paddle.to_tensor([[0], [2]], dtype="int64")
    log_p = scores.numpy() - np.log(np.exp(scores.numpy()).sum(axis=1, keepdims=True))
    target = np.full((2, 5), 0.1 / 5)
    target[[0, 1], [0, 2]] += 0.9
    expected = -(target * log_p).sum(axis=1).mean()
    assert float(head.loss(scores, labels)["loss"]) == pytest.approx(expected, rel=1e-5)
    plain = float(F.cross_entropy(scores, labels))
    assert float(head.sample_losses(scores, labels).mean()) == pytest.approx(plain, rel=1e-6)  # validation
    assert abs(expected - plain) > 1e-3


def _numpy_cross_entropy(scores, labels):
    log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels]


def test_sample_losses_are_per_clip_cross_entropy_and_average_to_the_loss():
    head = _head(num_classes=6, ls_eps=0.1)
    rng = np.random.default_rng(4)
    scores = rng.standard_normal((5, 6)).astype("float32")
    labels = np.array([0, 5, 2, 2, 1])
    per_clip = head.sample_losses(paddle.to_tensor(scores), paddle.to_tensor(labels.reshape(-1, 1)))
    expected = _numpy_cross_entropy(scores.astype("float64"), labels)
    assert per_clip.shape == [5]
    np.testing.assert_allclose(per_clip.numpy(), expected, rtol=1e-5)
    assert float(per_clip.mean()) == pytest.approx(expected.mean(), rel=1e-5)


def test_unknown_label_layout_is_a_programming_error_not_a_user_error():
    head = _head(num_classes=5)
    labels = paddle.to_tensor([[0]], dtype="int64")
    with pytest.raises(LabelLayoutError, match="expects labels \\[N, 1\\] or \\[labels\\], got 3 items") as info:
        head.loss(paddle.zeros([1, 5]), [labels, labels, paddle.to_tensor([0.5])])
    assert not isinstance(info.value, UserError)  # a caller's bug keeps its traceback
