"""Metrics: CenterCropMetric over a whole (single-process) test set, padding dropped, PaddleVideo's lines."""
import numpy as np
import pytest

import paddlevideo  # noqa: F401  (before paddle)
import paddle

from paddlevideo.metrics import CenterCropMetric, GatheredOutputs, build_metric, topk_accuracy
from paddlevideo.utils.build_utils import BuildError
from paddlevideo.utils.config import AttrDict

from log_line_formats import TEST_BATCH, TEST_FINISHED, assert_all_match


def _batch(logits, labels):
    return (paddle.to_tensor(np.asarray(logits, dtype=np.float32)),
            paddle.to_tensor(np.asarray(labels, dtype=np.int64).reshape(-1, 1)))


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
    gathered.add(out, lab)
    out, lab = _batch(np.eye(4)[:3], [0, 0, 0])  # only one of these is a real sample
    kept, _ = gathered.add(out, lab)
    assert kept.shape[0] == 1
    outputs, labels = gathered.concat()
    assert outputs.shape == [5, 4] and labels.shape == [5, 1]
    assert topk_accuracy(outputs, labels, 1) == pytest.approx(1.0)


def test_topk_capped_at_class_count():
    out, lab = _batch([[0.1, 0.9], [0.8, 0.2]], [0, 0])
    assert topk_accuracy(out, lab, 5) == pytest.approx(1.0)
    assert topk_accuracy(out, lab, 1) == pytest.approx(0.5)


def test_metric_without_batches_fails_clearly():
    metric = CenterCropMetric(data_size=0, batch_size=1)
    with pytest.raises(RuntimeError, match="no test batch"):
        metric.accumulate()


def test_unknown_metric_name():
    with pytest.raises(BuildError, match="CenterCropMetric"):
        build_metric(AttrDict({"name": "NoMetric"}), data_size=1, batch_size=1)
