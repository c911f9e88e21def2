"""Metrics: the one top-k accuracy, CenterCropMetric over a whole test set, padding dropped, PaddleVideo's lines."""
import numpy as np
import pytest

import paddlevideo  # noqa: F401  (before paddle)
import paddle

from paddlevideo.metrics import CenterCropMetric, EmptySetError, GatheredOutputs, build_metric, topk_accuracy
from paddlevideo.utils.build_utils import BuildError
from paddlevideo.utils.config import AttrDict
from paddlevideo.utils.errors import UserError

from log_line_formats import TEST_BATCH, TEST_FINISHED, assert_all_match


def _batch(logits, labels):
    return (paddle.to_tensor(np.asarray(logits, dtype=np.float32)),
            paddle.to_tensor(np.asarray(labels, dtype=np.int64).reshape(-1, 1)))


def _numpy_topk(logits, labels, k):
    better = (logits > logits[np.arange(len(labels)), labels][:, None]).sum(axis=1)
    return float(np.mean(better < k))


@pytest.mark.parametrize("k", [1, 2, 5])
def test_topk_accuracy_matches_numpy_ranking(k):
    rng = np.random.default_rng(k)
    logits = rng.standard_normal((40, 8)).astype(np.float32)
    labels = rng.integers(0, 8, 40)
    out, lab = _batch(logits, labels)
    expected = _numpy_topk(logits, labels, k)
    assert 0.0 < expected < 1.0
    assert float(topk_accuracy(out, lab, k)) == pytest.approx(expected)
    assert float(topk_accuracy(out, lab.reshape([-1]), k)) == pytest.approx(expected)  # [N] labels too


def test_topk_beyond_class_count_is_capped_instead_of_failing():
    """PaddleVideo's accuracy(k=5) raises with fewer than 5 classes; here k becomes the class count."""
    out, lab = _batch([[0.1, 0.9, 0.0], [0.8, 0.2, 0.0]], [2, 0])
    assert float(topk_accuracy(out, lab, 5)) == pytest.approx(1.0)
    assert float(topk_accuracy(out, lab, 2)) == pytest.approx(0.5)


def test_center_crop_metric_exact_over_set(capsys):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((7, 6)).astype(np.float32)
    labels = logits.argmax(1)
    labels[:2] = np.argsort(logits[:2], axis=1)[:, 0]  # two wrong at top-1 and at top-5 (lowest score)
    labels[2] = np.argsort(logits[2])[-3]  # third best: wrong at top-1, right at top-5
    metric = build_metric(AttrDict({"name": "CenterCropMetric"}), data_size=7, batch_size=3, log_interval=1)
    for batch_id, start in enumerate(range(0, 7, 3)):
        out, lab = _batch(logits[start:start + 3], labels[start:start + 3])
        metric.update(batch_id, [None, lab], out)
    results = metric.accumulate()
    assert results["avg_acc1"] == pytest.approx(4 / 7, abs=1e-6)
    assert results["avg_acc5"] == pytest.approx(5 / 7, abs=1e-6)
    printed = capsys.readouterr().out
    assert "[TEST] Processing batch 0/2 ..." in printed
    assert "[TEST] Processing batch 2/2 ..." in printed
    finished = assert_all_match(printed, "[TEST] finished", TEST_FINISHED)
    assert finished == [f"[TEST] finished, avg_acc1={results['avg_acc1']}, avg_acc5={results['avg_acc5']}"]
    assert_all_match(printed, "[TEST] Processing", TEST_BATCH, at_least=3)


def test_gathered_outputs_drop_padding():
    gathered = GatheredOutputs(data_size=5)
    out, lab = _batch(np.eye(4), [0, 1, 2, 3])
    gathered.add(out, lab, paddle.to_tensor([1.0, 2.0, 3.0, 4.0]))
    out, lab = _batch(np.eye(4)[:3], [0, 0, 0])  # only the first is a real sample
    kept = gathered.add(out, lab, paddle.to_tensor([5.0, 60.0, 70.0]))
    assert kept["scores"].shape == [1, 4] and kept["losses"].numpy().tolist() == [5.0]
    assert gathered.remaining == 0
    everything = gathered.concat()
    assert everything["scores"].shape == [5, 4] and everything["labels"].shape == [5, 1]
    assert everything["losses"].numpy().tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert float(topk_accuracy(everything["scores"], everything["labels"], 1)) == pytest.approx(1.0)


def test_gathered_outputs_concatenate_ranks_in_rank_order(monkeypatch):
    """Two ranks; the other one holds the next rows; the padding repeat is the last rank's last row."""
    others = iter([paddle.to_tensor([[0.0, 1.0]]), paddle.to_tensor([[1]], dtype="int64")])

    def fake_all_gather(parts, tensor):
        parts.extend([tensor, next(others)])

    monkeypatch.setattr(paddle.distributed, "all_gather", fake_all_gather)
    gathered = GatheredOutputs(data_size=1, world_size=2)
    kept = gathered.add(*_batch([[1.0, 0.0]], [0]))
    assert kept["scores"].numpy().tolist() == [[1.0, 0.0]] and kept["labels"].numpy().ravel().tolist() == [0]


def test_metric_without_batches_is_a_user_error():
    metric = CenterCropMetric(data_size=0, batch_size=1)
    with pytest.raises(EmptySetError, match="no test batch") as info:
        metric.accumulate()
    assert isinstance(info.value, UserError)


def test_unknown_metric_name():
    with pytest.raises(BuildError, match="CenterCropMetric"):
        build_metric(AttrDict({"name": "NoMetric"}), data_size=1, batch_size=1)
