"""ResNet backbone: structure and names per depth, init statistics, NHWC == NCHW, bad config errors."""
import numpy as np
import pytest

import paddle

from paddlevideo.modeling.backbones.resnet import ResNet, ResNetError, block_name


def _random_init(depth, **kwargs):
    net = ResNet(depth, **kwargs)
    net.init_weights()
    net.eval()
    return net


@pytest.mark.parametrize("depth,channels,blocks", [(18, 512, 8), (34, 512, 16), (50, 2048, 16),
                                                      pytest.param(101, 2048, 33, marks=pytest.mark.slow)])
def test_each_depth_builds_and_runs_forward(depth, channels, blocks):
    paddle.seed(0)
    net = _random_init(depth)
    assert len(net.block_list) == blocks and net.out_channels == channels
    out = net(paddle.randn([2, 3, 64, 64]))
    assert out.shape == [2, channels, 2, 2]
    assert np.isfinite(out.numpy()).all()


def test_block_names_follow_paddlevideo():
    assert [block_name(50, 2, i) for i in range(3)] == ["res4a", "res4b", "res4c"]
    assert [block_name(101, 2, i) for i in (0, 1, 22)] == ["res4a", "res4b1", "res4b22"]
    assert [block_name(152, 1, i) for i in (0, 7)] == ["res3a", "res3h"]
    assert block_name(152, 2, 35) == "res4b35"
    names = [n for n, _ in ResNet(101).named_children()]
    assert names[:2] == ["conv", "pool2D_max"] and "res4b22" in names and "res5c" in names
    assert sum(n.startswith("res4") for n in names) == 23


def test_basic_block_names_and_shapes():
    state = ResNet(18).state_dict()
    assert list(state["res2a.conv0._conv.weight"].shape) == [64, 64, 3, 3]
    assert list(state["res3a.short._conv.weight"].shape) == [128, 64, 1, 1]
    assert list(state["res5b.conv1._batch_norm._variance"].shape) == [512]
    assert not any(".conv2." in k for k in state)  # basic blocks have two 3x3 convs only
    assert "res2b.short._conv.weight" not in state


def test_param_attr_names():
    names = {k: p.name for k, p in ResNet(50).named_parameters()}
    assert names["conv._conv.weight"] == "conv1_weights"
    assert names["conv._batch_norm.weight"] == "bn_conv1_scale"
    assert names["conv._batch_norm.bias"] == "bn_conv1_offset"
    assert names["res2a.conv0._conv.weight"] == "res2a_branch2a_weights"
    assert names["res2a.short._conv.weight"] == "res2a_branch1_weights"
    assert names["res3b.conv1._batch_norm.weight"] == "bn3b_branch2b_scale"
    assert names["res5c.conv2._batch_norm.bias"] == "bn5c_branch2c_offset"


def test_random_init_statistics():
    paddle.seed(1)
    net = ResNet(50)
    net.init_weights()
    state = net.state_dict()
    weight = state["res5a.conv1._conv.weight"].numpy()  # 512x512x3x3: 2.4M draws
    expected_std = np.sqrt(2.0 / (512 * 3 * 3))
    assert abs(weight.std() / expected_std - 1) < 0.01 and abs(weight.mean()) < 0.01 * expected_std * 10
    stem = state["conv._conv.weight"].numpy()
    assert abs(stem.std() / np.sqrt(2.0 / (3 * 7 * 7)) - 1) < 0.05
    for key in ("conv._batch_norm", "res3a.short._batch_norm", "res5c.conv2._batch_norm"):
        assert (state[key + ".weight"].numpy() == 1).all() and (state[key + ".bias"].numpy() == 0).all()
        assert (state[key + "._mean"].numpy() == 0).all() and (state[key + "._variance"].numpy() == 1).all()


@pytest.mark.parametrize("depth", [18, pytest.param(50, marks=pytest.mark.slow)])
def test_nhwc_matches_nchw(depth):
    paddle.seed(3)
    nchw = _random_init(depth)
    nhwc = ResNet(depth, data_format="NHWC")
    assert [(k, v.shape) for k, v in nhwc.state_dict().items()] == \
        [(k, v.shape) for k, v in nchw.state_dict().items()]
    nhwc.set_state_dict(nchw.state_dict())
    nhwc.eval()
    x = paddle.randn([2, 3, 64, 64])
    np.testing.assert_allclose(nhwc(x).numpy(), nchw(x).numpy(), rtol=1e-4, atol=1e-4)


def test_bad_depth_and_layout_are_clear_errors():
    with pytest.raises(ResNetError, match=r"depth must be one of \[18, 34, 50, 101, 152\], got 51"):
        ResNet(51)
    with pytest.raises(ResNetError, match="data_format"):
        ResNet(18, data_format="NCWH")


@pytest.mark.parametrize("pretrained", [None, "", "  "])
def test_empty_pretrained_means_random_init(pretrained):
    net = ResNet(18, pretrained=pretrained)
    net.init_weights()
    assert (net.state_dict()["conv._batch_norm.weight"].numpy() == 1).all()
