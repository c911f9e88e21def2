"""Recognizer2D: build from config, state-dict names, modes, shapes, determinism, learning, to_static."""
import os

import numpy as np
import pytest

import paddlevideo  # noqa: F401  (CPU runtime before paddle)
import paddle
from paddle.static import InputSpec

from paddlevideo.modeling import Recognizer2D, build_model
from paddlevideo.metrics import set_accuracies
from paddlevideo.modeling.framework.recognizers.base import ModeError
from paddlevideo.utils import BuildError, get_config
from paddlevideo.utils.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE_DICT_LIST = os.path.join(ROOT, "tests", "data", "tsn_r50_k400_state_dict.txt")


def small_cfg(num_classes=4, depth=18, drop_ratio=0.4):
    return {"framework": "Recognizer2D",
            "backbone": {"name": "ResNet", "depth": depth, "pretrained": ""},
            "head": {"name": "TSNHead", "num_classes": num_classes, "in_channels": 512 if depth < 50 else 2048,
                     "drop_ratio": drop_ratio, "std": 0.01}}


def _labels(*values):
    return paddle.to_tensor(np.array(values, dtype="int64").reshape(-1, 1))


def test_r50_state_dict_equals_paddlevideo_list():
    cfg = get_config(os.path.join(ROOT, "configs/recognition/tsn/tsn_k400_frames.yaml"), show=False,
                     overrides=["MODEL.backbone.pretrained=''"])
    model = build_model(cfg.MODEL)
    assert isinstance(model, Recognizer2D)
    ours = [f"{k} [{','.join(str(d) for d in v.shape)}]" for k, v in model.state_dict().items()]
    with open(STATE_DICT_LIST, encoding="utf-8") as f:
        expected = f.read().split("\n")[:-1]
    assert ours == expected  # names, shapes and order; no extra buffers
    assert len(ours) == 267
    assert sum(int(np.prod(v.shape)) for v in model.state_dict().values()) == 24_380_752
    assert sum(int(np.prod(p.shape)) for p in model.parameters() if not p.stop_gradient) == 24_327_632
    names = {k: p.name for k, p in model.named_parameters()}
    assert names["head.fc.weight"] == "fc_0.w_0" and names["head.fc.bias"] == "fc_0.b_0"
    assert names["backbone.res4f.conv2._conv.weight"] == "res4f_branch2c_weights"
    assert names["backbone.res5a.short._batch_norm.weight"] == "bn5a_branch1_scale"
    trainable = [p.name for p in model.parameters() if not p.stop_gradient]
    assert len(set(trainable)) == len(trainable) == 161


def test_build_errors_name_the_key():
    with pytest.raises(BuildError, match="MODEL.framework: 'Recognizer3D' is not a registered recognizer"):
        build_model(dict(small_cfg(), framework="Recognizer3D"))
    bad = small_cfg()
    bad["head"]["dropout"] = 0.5
    with pytest.raises(BuildError, match="head 'TSNHead' has no argument 'dropout'"):
        build_model(bad)


@pytest.mark.parametrize("batch,segs", [(2, 3), (1, 250)])
def test_output_shapes(batch, segs):
    paddle.seed(0)
    model = build_model(small_cfg(num_classes=5))
    model.eval()
    size = 32 if segs < 10 else 16  # 250 frames: keep it fast
    with paddle.no_grad():
        imgs = paddle.randn([batch, segs, 3, size, size])
        assert model([imgs], "test").shape == [batch, 5]
        if segs < 10:
            assert model([imgs], "infer").shape == [batch, 5]
            assert model(imgs).shape == [batch, 5]  # a bare tensor is [imgs], mode defaults to infer


def test_train_returns_loss_metrics_and_valid_only_scores_and_per_clip_losses():
    paddle.seed(0)
    model = build_model(small_cfg(num_classes=6))
    imgs, labels = paddle.randn([5, 3, 3, 32, 32]), _labels(1, 3, 0, 5, 2)
    model.train()
    out = model([imgs, labels], "train")
    assert set(out) == {"loss", "top1", "top5"} and out["loss"].shape == [] and not out["loss"].stop_gradient
    model.eval()
    valid = model([imgs, labels], "valid")
    assert set(valid) == {"scores", "losses"}  # no loss, no accuracy: validation computes them over the set
    scores = valid["scores"].numpy().astype("float64")
    np.testing.assert_allclose(scores, model([imgs], "test").numpy(), rtol=1e-5, atol=1e-6)
    truth = labels.numpy().ravel()
    rank_of_label = (scores > scores[np.arange(5), truth][:, None]).sum(axis=1)
    assert set_accuracies(valid["scores"], labels) == pytest.approx({1: np.mean(rank_of_label < 1),
                                                                     5: np.mean(rank_of_label < 5)})
    log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    per_clip = -log_p[np.arange(5), truth]
    np.testing.assert_allclose(valid["losses"].numpy(), per_clip, rtol=1e-4)
    with pytest.raises(ModeError, match="mode must be one of train, valid, test, infer, got 'eval'") as info:
        model([imgs], "eval")
    assert not isinstance(info.value, UserError)  # a caller's bug keeps its traceback


def test_eval_mode_is_deterministic_and_train_mode_is_not():
    paddle.seed(0)
    model = build_model(small_cfg(drop_ratio=0.8))
    imgs = paddle.randn([2, 3, 3, 32, 32])
    model.eval()
    first, second = model([imgs], "test").numpy(), model([imgs], "test").numpy()
    np.testing.assert_array_equal(first, second)
    model.train()
    assert not np.allclose(model([imgs], "test").numpy(), model([imgs], "test").numpy())


def test_input_batch_is_not_modified():
    model = build_model(small_cfg())
    model.eval()
    imgs = paddle.randn([2, 3, 3, 32, 32])
    model([imgs], "infer")
    assert imgs.shape == [2, 3, 3, 32, 32]


def test_same_seed_same_model():
    paddle.seed(11)
    first = build_model(small_cfg()).state_dict()
    paddle.seed(11)
    second = build_model(small_cfg()).state_dict()
    assert all(np.array_equal(first[k].numpy(), second[k].numpy()) for k in first)


def test_a_few_momentum_steps_reduce_the_loss():
    paddle.seed(0)
    model = build_model(small_cfg(drop_ratio=0.0))
    model.train()
    imgs, labels = paddle.randn([4, 2, 3, 32, 32]), _labels(0, 1, 2, 3)
    opt = paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, parameters=model.parameters())
    losses = []
    for _ in range(6):
        loss = model([imgs, labels], "train")["loss"]
        loss.backward()
        opt.step()
        opt.clear_grad()
        losses.append(float(loss))
    assert losses[-1] < losses[0] * 0.7, losses


@pytest.mark.slow  # a to_static trace of the whole model
@pytest.mark.parametrize("nested", [False, True])
def test_to_static_traces_infer_as_one_graph(tmp_path, nested):
    paddle.seed(0)
    model = build_model(small_cfg())
    model.eval()
    imgs = paddle.randn([2, 4, 3, 32, 32])
    expected = model([imgs], "infer").numpy()
    spec = InputSpec([None, 4, 3, 32, 32], "float32", name="data_batch")
    static = paddle.jit.to_static(model, input_spec=[[spec]] if nested else [spec], full_graph=True)
    out = static([imgs] if nested else imgs)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    paddle.jit.save(static, str(tmp_path / "TSN"))
    assert any(name.startswith("TSN.") and name.endswith("pdiparams") for name in os.listdir(tmp_path))
