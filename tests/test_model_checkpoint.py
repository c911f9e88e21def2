"""Checkpoints into the model: own saves, bare backbones, DataParallel, pretrained, fine-tuning."""
import numpy as np
import pytest

import paddle

from paddlevideo.modeling import ResNet, build_model
from paddlevideo.utils.save_load import CheckpointError, load_ckpt, save


def small_cfg(num_classes=4, pretrained=""):
    return {"framework": "Recognizer2D",
            "backbone": {"name": "ResNet", "depth": 18, "pretrained": pretrained},
            "head": {"name": "TSNHead", "num_classes": num_classes, "in_channels": 512}}


def _trained_model(seed=5, num_classes=4):
    """A model whose BN statistics and weights differ from any fresh init."""
    paddle.seed(seed)
    model = build_model(small_cfg(num_classes))
    model.train()
    model([paddle.randn([2, 2, 3, 32, 32]), paddle.to_tensor([[0], [1]], dtype="int64")], "train")
    model.eval()
    return model


@pytest.fixture(scope="module")
def source():
    """One ``_trained_model()`` for the tests that only save and compare it (none of them changes it)."""
    return _trained_model()


def _same_state(a, b, keys=None):
    sa, sb = a.state_dict(), b.state_dict()
    return all(np.array_equal(sa[k].numpy(), sb[k].numpy()) for k in (keys or sa))


def test_own_checkpoint_round_trip(source, tmp_path):
    path = str(tmp_path / "TSN_epoch_00001.pdparams")
    save(source.state_dict(), path)
    paddle.seed(99)
    target = build_model(small_cfg())
    report = load_ckpt(target, path)
    assert len(report["loaded"]) == len(target.state_dict()) and not report["missing"] + report["mismatched"]
    target.eval()
    imgs = paddle.randn([1, 2, 3, 32, 32])
    np.testing.assert_array_equal(target([imgs], "infer").numpy(), source([imgs], "infer").numpy())


def test_bare_backbone_checkpoint_initialises_the_backbone(tmp_path):
    paddle.seed(3)
    backbone = ResNet(18)
    backbone.init_weights()
    path = str(tmp_path / "ResNet18_pretrain.pdparams")
    save(backbone.state_dict(), path)
    assert "conv._conv.weight" in backbone.state_dict()
    model = build_model(small_cfg(pretrained=path))
    state = model.backbone.state_dict()
    assert all(np.array_equal(state[k].numpy(), v.numpy()) for k, v in backbone.state_dict().items())
    assert np.abs(model.head.fc.weight.numpy()).max() > 0  # head still initialised


def test_whole_model_checkpoint_as_backbone_pretrained(source, tmp_path):
    path = str(tmp_path / "TSN_best.pdparams")
    save(source.state_dict(), path)
    model = build_model(small_cfg(pretrained=path))  # takes backbone.k for k
    assert _same_state(model.backbone, source.backbone)


@pytest.mark.slow  # three models built
def test_data_parallel_checkpoint_loads(source, tmp_path):
    wrapped = paddle.DataParallel(source)
    plain = wrapped.state_dict()  # Paddle 3's wrapper saves the inner keys
    prefixed = paddle.nn.Layer.state_dict(wrapped)  # the generic Layer view keeps "_layers."
    assert all(k.startswith("_layers.") for k in prefixed) and "backbone.conv._conv.weight" in plain
    for name, state in (("dp_plain", plain), ("dp_prefixed", prefixed)):
        path = str(tmp_path / f"{name}.pdparams")
        save(state, path)
        paddle.seed(1)
        target = build_model(small_cfg())
        report = load_ckpt(target, path)
        assert len(report["loaded"]) == len(target.state_dict()), name
        assert _same_state(target, source), name


def test_fine_tuning_other_class_count_skips_only_the_fc(source, tmp_path, capsys):
    path = str(tmp_path / "k4.pdparams")
    save(source.state_dict(), path)
    paddle.seed(0)
    target = build_model(small_cfg(num_classes=7))
    fc_before = target.head.fc.weight.numpy().copy()
    report = load_ckpt(target, path)
    assert sorted(report["mismatched"]) == ["head.fc.bias", "head.fc.weight"]
    assert len(report["loaded"]) == len(target.state_dict()) - 2
    assert _same_state(target.backbone, source.backbone)
    np.testing.assert_array_equal(target.head.fc.weight.numpy(), fc_before)
    printed = capsys.readouterr().out
    assert "skipped 'head.fc.weight': shape [512, 4] in the file, [512, 7] in the model" in printed


def test_missing_pretrained_file_fails_at_build(tmp_path):
    missing = str(tmp_path / "data" / "ResNet50_pretrain.pdparams")
    with pytest.raises(CheckpointError,
                       match="MODEL.backbone.pretrained: .*ResNet50_pretrain.pdparams' not found.*pretrained=''"):
        build_model(small_cfg(pretrained=missing))


def test_unrelated_checkpoint_is_rejected(tmp_path):
    path = str(tmp_path / "other.pdparams")
    save({"encoder.weight": paddle.zeros([3, 3])}, path)
    with pytest.raises(CheckpointError, match="shares no parameter with the model"):
        build_model(small_cfg(pretrained=path))


@pytest.mark.slow  # a ResNet-34 and two ResNet-18s built
def test_finetuning_refuses_a_checkpoint_of_another_backbone(source, tmp_path):
    """Depth-18 weights into depth 34: only the fc may differ when fine-tuning, so this is refused whole."""
    path = str(tmp_path / "r18.pdparams")
    save(source.state_dict(), path)
    cfg = small_cfg()
    cfg["backbone"]["depth"] = 34
    paddle.seed(0)
    target = build_model(cfg)
    before = target.backbone.conv._conv.weight.numpy().copy()
    with pytest.raises(CheckpointError, match=r"r18.pdparams does not fit this model \(only head.fc.\* may differ\): "
                                              r"\d+ of the model's \d+ tensors missing"):
        load_ckpt(target, path, only_may_differ=("head.fc.",))
    np.testing.assert_array_equal(target.backbone.conv._conv.weight.numpy(), before)  # nothing loaded
    report = load_ckpt(build_model(small_cfg(num_classes=7)), path, only_may_differ=("head.fc.",))
    assert sorted(report["mismatched"]) == ["head.fc.bias", "head.fc.weight"]
