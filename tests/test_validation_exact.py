"""Validation runs the model's valid step and is exact over the set: padding dropped, any batch size."""
import json
import types

import numpy as np
import pytest

import paddlevideo  # noqa: F401  (before paddle)
import paddle

from paddlevideo.modeling import build_model
from paddlevideo.tasks.metrics_log import MetricsLog
from paddlevideo.tasks.context import RunContext
from paddlevideo.tasks.validate import evaluate

from log_line_formats import VAL_END, VAL_STEP, assert_all_match

CLASSES = 6


class ListLoader:
    """The two things ``evaluate`` uses of a DataLoader: iteration and ``batch_sampler.batch_size``."""

    def __init__(self, batches, batch_size):
        self.batches = batches
        self.batch_sampler = types.SimpleNamespace(batch_size=batch_size)

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def _ctx(**values):
    return RunContext(output_dir="unused", model_name="TSN", **values)


def _model():
    paddle.seed(0)
    return build_model({"framework": "Recognizer2D",
                        "backbone": {"name": "ResNet", "depth": 18, "pretrained": ""},
                        "head": {"name": "TSNHead", "num_classes": CLASSES, "in_channels": 512}})


def _clips(count, seed=0):
    rng = np.random.default_rng(seed)
    imgs = rng.standard_normal((count, 2, 3, 32, 32)).astype("float32")
    labels = rng.integers(0, CLASSES, count).astype("int64")
    return imgs, labels


def _batches(imgs, labels, batch_size):
    return [[paddle.to_tensor(imgs[i:i + batch_size]), paddle.to_tensor(labels[i:i + batch_size, None])]
            for i in range(0, len(labels), batch_size)]


def _numpy_figures(model, imgs, labels):
    """Loss, top-1 and top-5 of ``imgs`` computed with numpy from the test-mode logits, all at once."""
    model.eval()
    with paddle.no_grad():
        scores = model([paddle.to_tensor(imgs)], "test").numpy().astype("float64")
    log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    better = (scores > scores[rows, labels][:, None]).sum(axis=1)
    return {"loss": -log_p[rows, labels].mean(), "top1": np.mean(better < 1), "top5": np.mean(better < 5)}


@pytest.mark.parametrize("batch_size", [1, 3, 7])
def test_result_does_not_depend_on_batch_size(batch_size):
    model = _model()
    imgs, labels = _clips(7)
    expected = _numpy_figures(model, imgs, labels)
    modes = []
    forward = model.forward
    model.forward = lambda data, mode="infer": (modes.append(mode), forward(data, mode))[1]
    result = evaluate(_ctx(), model, ListLoader(_batches(imgs, labels, batch_size), batch_size), 7, 1)
    assert set(modes) == {"valid"}
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-5), name


def test_two_ranks_padding_is_dropped(monkeypatch):
    """5 clips on 2 ranks, batch 2: rank 0 holds clips 0,1,4, rank 1 holds 2,3 and repeats clip 0."""
    model = _model()
    imgs, labels = _clips(5, seed=1)
    expected = _numpy_figures(model, imgs, labels)
    rank1_rows = iter([[2, 3], [0]])
    rank1_outputs = []

    def fake_all_gather(parts, tensor):
        if not rank1_outputs:
            with paddle.no_grad():
                rows = next(rank1_rows)
                out = model([paddle.to_tensor(imgs[rows]), paddle.to_tensor(labels[rows, None])], "valid")
            rank1_outputs.extend([out["scores"], paddle.to_tensor(labels[rows, None]), out["losses"]])
        parts.extend([tensor, rank1_outputs.pop(0).astype(tensor.dtype).reshape([-1] + tensor.shape[1:])])

    monkeypatch.setattr(paddle.distributed, "all_gather", fake_all_gather)
    order = [0, 1, 4]
    loader = ListLoader(_batches(imgs[order], labels[order], 2), 2)
    never = types.SimpleNamespace(requested=lambda world_size: False)  # the stop agreement is another test's
    result = evaluate(_ctx(world_size=2, stop=never), model, loader, 5, 1)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-5), name


def test_lines_and_metrics_file(tmp_path, capsys):
    model = _model()
    imgs, labels = _clips(4)
    result = evaluate(_ctx(epochs=5, log_interval=1, metrics_log=MetricsLog(str(tmp_path))), model,
                      ListLoader(_batches(imgs, labels, 2), 2), 4, 3)
    printed = capsys.readouterr().out
    assert len(assert_all_match(printed, " val step:", VAL_STEP, at_least=2)) == 2
    (end,) = assert_all_match(printed, "END epoch:", VAL_END)
    assert f"top1_avg: {result['top1']:.5f}" in end
    (line,) = (tmp_path / "metrics.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert (record["event"], record["mode"], record["epoch"], record["step"], record["lr"]) == ("epoch", "val", 3,
                                                                                              None, None)
    for name in ("loss", "top1", "top5", "batch_cost", "reader_cost", "ips", "batch_cost_sum"):
        assert record[name] == pytest.approx(result[name]), name
