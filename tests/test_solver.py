"""Solver: learning-rate schedules and the optimizer built from OPTIMIZER sections."""
import numpy as np
import pytest

import paddle

from paddlevideo.solver import build_lr, build_optimizer
from paddlevideo.solver.lr import lr_steps_per_iteration
from paddlevideo.utils.config import AttrDict, ConfigError, get_config

TSN_CFG = "configs/recognition/tsn/tsn_k400_frames.yaml"


def _tsn_optimizer_cfg():
    return get_config(TSN_CFG, show=False).OPTIMIZER


def _lrs_per_epoch(sched, epochs):
    out = []
    for _ in range(epochs):
        out.append(sched.get_lr() if hasattr(sched, "get_lr") else sched())
        sched.step()
    return out


def test_tsn_piecewise_decay_by_epoch():
    cfg = _tsn_optimizer_cfg()
    sched = build_lr(cfg.learning_rate, num_iters=100)
    lrs = _lrs_per_epoch(sched, 100)
    assert lrs[0] == lrs[39] == 0.01
    assert lrs[40] == lrs[79] == 0.001
    assert lrs[80] == lrs[99] == 0.0001
    assert not lr_steps_per_iteration(cfg.learning_rate)


def test_tsn_optimizer_is_momentum_l2_globalnorm():
    cfg = _tsn_optimizer_cfg()
    model = paddle.nn.Linear(3, 2)
    opt = build_optimizer(cfg, build_lr(cfg.learning_rate, 10), model=model)
    assert isinstance(opt, paddle.optimizer.Momentum)
    assert opt._momentum == pytest.approx(0.9)
    # Momentum fuses an L2Decay regularizer into its update kernel
    assert opt._regularization_method == "l2_decay"
    assert opt._regularization_coeff == pytest.approx(1e-4)
    assert isinstance(opt._grad_clip, paddle.nn.ClipGradByGlobalNorm)
    assert opt._grad_clip.clip_norm == pytest.approx(40.0)


def test_momentum_step_matches_formula():
    """v = mu*v + (g + wd*p); p -= lr*v, with the gradient clipped to global norm 40 first."""
    cfg = _tsn_optimizer_cfg()
    layer = paddle.nn.Linear(2, 1, bias_attr=False)
    w0 = np.array([[1.0], [-2.0]], dtype=np.float32)
    layer.weight.set_value(w0)
    opt = build_optimizer(cfg, build_lr(cfg.learning_rate, 1), model=layer)
    x = paddle.to_tensor([[300.0, 400.0]])  # gradient [300, 400]: norm 500 -> clipped to 40
    layer(x).sum().backward()
    opt.step()
    grad = np.array([[300.0], [400.0]]) * (40.0 / 500.0)
    expected = w0 - 0.01 * (grad + 1e-4 * w0)
    np.testing.assert_allclose(layer.weight.numpy(), expected, rtol=1e-5)


def test_nested_warmup_cosine_and_iter_step():
    cfg = AttrDict({"name": "LinearWarmup", "warmup_steps": 2, "start_lr": 0.0, "end_lr": 0.1,
                    "learning_rate": AttrDict({"name": "CosineAnnealingDecay", "learning_rate": 0.1,
                                               "T_max": 4})})
    sched = build_lr(cfg, num_iters=5)
    lrs = _lrs_per_epoch(sched, 6)
    assert lrs[:2] == pytest.approx([0.0, 0.05])
    assert lrs[2] == pytest.approx(0.1)
    assert lrs[4] == pytest.approx(0.05)  # cosine half-way (step 2 of T_max 4)

    custom = AttrDict({"name": "CustomWarmupCosineDecay", "iter_step": True, "warmup_start_lr": 0.001,
                       "warmup_epochs": 1, "cosine_base_lr": 0.01, "max_epoch": 2})
    assert lr_steps_per_iteration(custom)
    sched = build_lr(custom, num_iters=4)
    assert sched.num_iters == 4
    lrs = _lrs_per_epoch(sched, 9)  # 2 epochs of 4 iterations + 1
    assert lrs[0] == pytest.approx(0.001)
    assert lrs[4] == pytest.approx(0.005)  # end of warmup: cos(pi/2) half of base
    assert lrs[8] == pytest.approx(0.0, abs=1e-12)


def test_scheduler_state_resumes_exactly():
    cfg = _tsn_optimizer_cfg()
    cfg.learning_rate.boundaries = [2, 4]
    model = paddle.nn.Linear(3, 2)
    sched = build_lr(cfg.learning_rate, 1)
    opt = build_optimizer(cfg, sched, model=model)
    for _ in range(3):
        model(paddle.ones([1, 3])).sum().backward()
        opt.step()
        opt.clear_grad()
        sched.step()
    state = opt.state_dict()
    assert state["LR_Scheduler"]["last_epoch"] == 3
    sched2 = build_lr(cfg.learning_rate, 1)
    opt2 = build_optimizer(cfg, sched2, model=model)
    opt2.set_state_dict(state)
    assert opt2.get_lr() == opt.get_lr() == 0.001
    sched.step()
    sched2.step()
    assert opt2.get_lr() == opt.get_lr() == 0.0001


@pytest.mark.parametrize("section, message", [
    ({"name": "NoSuchDecay", "values": [1]}, "NoSuchDecay"),
    ({"name": "PiecewiseDecay", "boundaries": [1], "values": [0.1, 0.01], "gamma": 2}, "gamma"),
    ({"boundaries": [1]}, "name"),
])
def test_bad_lr_section_names_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        build_lr(AttrDict(section), 10)


@pytest.mark.parametrize("section, message", [
    ({"name": "Momentun", "learning_rate": 0.1}, "Momentun"),
    ({"name": "Momentum", "learning_rate": 0.1, "weight_decay": {"name": "L3", "value": 1}}, "weight_decay"),
    ({"name": "Momentum", "learning_rate": 0.1, "grad_clip": {"name": "Clip", "value": 1}}, "grad_clip"),
    ({"name": "Momentum", "learning_rate": 0.1, "betas": 0.9}, "betas"),
])
def test_bad_optimizer_section_names_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        build_optimizer(AttrDict(section), 0.1, model=paddle.nn.Linear(2, 2))
