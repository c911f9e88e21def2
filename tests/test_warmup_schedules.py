"""PaddleVideo's warm-up schedules (solver/custom_lr.py), checked against lr sequences computed by hand from
its formulas, stepped as its training loop steps them, and resumed mid-warm-up from a saved optimizer state."""
import math
import warnings

import pytest

import paddle

from paddlevideo.solver import build_lr, build_optimizer
from paddlevideo.solver.custom_lr import CustomWarmupCosineStepDecay
from paddlevideo.utils.config import AttrDict, ConfigError
from paddlevideo.utils.save_load import load, save

ITERS = 4  # iterations per epoch: multiples of 1/4 add up exactly, as the hand formulas assume

PIECEWISE = {"name": "CustomWarmupPiecewiseDecay", "iter_step": True, "warmup_epochs": 2, "warmup_start_lr": 0.01,
             "step_base_lr": 0.1, "lrs": [1, 0.1, 0.01], "gamma": 0.1, "steps": [0, 3], "max_epoch": 5}
COSINE_STEP = {"name": "CustomWarmupCosineStepDecay", "iter_step": True, "warmup_iters": 1.5, "warmup_ratio": 0.1,
               "min_lr": 0, "base_lr": 0.1, "max_epoch": 4}
ADJUST = {"name": "CustomWarmupAdjustDecay", "iter_step": True, "step_base_lr": 0.1, "warmup_epochs": 2,
          "lr_decay_rate": 0.1, "boundaries": [3, 4]}
COSINE = {"name": "CustomWarmupCosineDecay", "iter_step": True, "warmup_start_lr": 0.001, "warmup_epochs": 1,
          "cosine_base_lr": 0.01, "max_epoch": 5}


def piecewise_by_hand(j):
    epoch = j / ITERS
    if epoch < 2:  # ramp from 0.01 to the step value at epoch 2 (lrs[0] * 0.1)
        return epoch * ((0.1 - 0.01) / 2) + 0.01
    return 0.1 if epoch < 3 else 0.01  # [0, 3): lrs[0]; [3, 5) and after: lrs[1]


def cosine_step_by_hand(j):
    whole_epochs = j // ITERS  # the cosine is evaluated at completed epochs
    regular = 0.5 * 0.1 * (math.cos(math.pi * whole_epochs / 4) + 1)
    warmup_steps = 1.5 * ITERS
    if j >= warmup_steps:
        return regular
    return regular * (1 - (1 - j / warmup_steps) * (1 - 0.1))


def adjust_by_hand(j, iters=ITERS):
    epoch = j / iters
    if epoch < 2:
        return 0.1 * (epoch + 1) / 2
    return 0.1 * 0.1 ** sum(epoch >= b for b in (3, 4))


def cosine_by_hand(j):
    epoch = j / ITERS
    cosine = lambda e: 0.01 * (math.cos(math.pi * e / 5) + 1) * 0.5  # noqa: E731
    return epoch * ((cosine(1) - 0.001) / 1) + 0.001 if epoch < 1 else cosine(epoch)


CASES = [(PIECEWISE, piecewise_by_hand), (COSINE_STEP, cosine_step_by_hand), (ADJUST, adjust_by_hand),
         (COSINE, cosine_by_hand)]


def _optimizer(section, layer=None):
    layer = layer or paddle.nn.Linear(2, 1)
    sched = build_lr(AttrDict(section), num_iters=ITERS)
    opt = build_optimizer(AttrDict({"name": "Momentum", "momentum": 0.9}), sched, model=layer)
    return layer, sched, opt


def _train_iterations(layer, sched, opt, count):
    """``count`` iterations of PaddleVideo's loop with ``iter_step``: optimizer step, read lr, then lr.step()."""
    used = []
    for _ in range(count):
        layer(paddle.ones([1, 2])).sum().backward()
        opt.step()
        opt.clear_grad()
        used.append(opt.get_lr())
        sched.step()
    return used


@pytest.mark.parametrize("section, by_hand", CASES, ids=[c[0]["name"] for c in CASES])
def test_lr_sequence_matches_paddlevideo_formula(section, by_hand):
    used = _train_iterations(*_optimizer(section), count=6 * ITERS)
    assert used == pytest.approx([by_hand(j) for j in range(6 * ITERS)], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("section, by_hand", CASES, ids=[c[0]["name"] for c in CASES])
def test_resume_mid_warmup_continues_the_sequence(section, by_hand, tmp_path):
    # Each phase in its own name scope, as in two processes: accumulator names (`*_velocity_0`) then match.
    with paddle.utils.unique_name.guard():
        layer, sched, opt = _optimizer(section)
        first = _train_iterations(layer, sched, opt, count=5)  # warm-up lasts 6 to 8 iterations in every case
        save(opt.state_dict(), str(tmp_path / "mid_warmup.pdopt"))
    with paddle.utils.unique_name.guard():
        _, sched2, opt2 = _optimizer(section, layer)  # a fresh scheduler and optimizer, same parameters
        opt2.set_state_dict(load(str(tmp_path / "mid_warmup.pdopt")))
        rest = _train_iterations(layer, sched2, opt2, count=6 * ITERS - 5)
    assert first + rest == pytest.approx([by_hand(j) for j in range(6 * ITERS)], rel=1e-12, abs=1e-15)


def test_per_epoch_stepping_without_iter_step():
    """PaddleVideo's skeleton recipes use CustomWarmupAdjustDecay without iter_step: one step per epoch
    (PaddleVideo itself divides by num_iters=None there and stops after the first epoch)."""
    section = dict(ADJUST)
    del section["iter_step"]
    sched = build_lr(AttrDict(section), num_iters=50)
    lrs = []
    for _ in range(6):
        lrs.append(sched())
        sched.step()
    assert lrs == pytest.approx([adjust_by_hand(e, iters=1) for e in range(6)], rel=1e-12)
    assert lrs[0] == pytest.approx(0.05) and lrs[3] == pytest.approx(0.01)


def test_paddlevideo_state_without_step_counter_loads_with_a_warning():
    _, sched, _ = _optimizer(COSINE_STEP)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.set_state_dict({"last_epoch": -1, "last_lr": 0.05})
    assert sched.last_lr == 0.05 and sched.cnt_iters == 1
    assert any("no step counter" in str(w.message) for w in caught)
    assert set(sched.state_dict()) == {"last_epoch", "last_lr", "cnt_iters", "cnt_epoch"}


def test_missing_argument_is_a_config_error():
    section = dict(PIECEWISE)
    del section["steps"]
    with pytest.raises(ConfigError, match="CustomWarmupPiecewiseDecay"):
        build_lr(AttrDict(section), num_iters=ITERS)
    with pytest.raises(ValueError, match="num_iters"):
        CustomWarmupCosineStepDecay(warmup_iters=1)
