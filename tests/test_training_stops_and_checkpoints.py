"""A stop during validation says where to resume; checkpoints that cannot fit fail at load, in one line."""
import os
import signal
import sys

import numpy as np
import pytest

import paddle

from conftest import main_in_process, make_rawframes, write_small_config
from paddlevideo.tasks import train as train_module
from paddlevideo.tasks.checkpoints import check_optimizer_state
from paddlevideo.utils.save_load import CheckpointError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_rawframes(str(tmp_path_factory.mktemp("stop_frames")), per_class=2, num_frames=4,
                          val_per_class=1, size=(48, 36))


def _one_error_line(proc, *needles):
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.slow
def test_sigterm_during_validation_names_the_checkpoint_and_the_resume_command(data, tmp_path, monkeypatch,
                                                                                capsys):
    out = str(tmp_path / "out")
    cfg = write_small_config(data, out, epochs=3, save_interval=5)  # epoch 2 is not due for a checkpoint
    evaluate, calls = train_module.evaluate, []

    def terminated_while_validating(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # epoch 2; caught by the run's GracefulStop: a flag, read after the batch
            os.kill(os.getpid(), signal.SIGTERM)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(train_module, "evaluate", terminated_while_validating)
    argv = ["-c", cfg, "--validate", "-o", "val_interval=1"]
    monkeypatch.setattr(sys, "argv", ["main.py", *argv])
    proc = main_in_process(*argv, capsys=capsys)
    assert proc.returncode == 143, proc.stderr[-3000:]
    checkpoint = os.path.join(out, "TSN_demo_epoch_00002.pdparams")
    assert proc.stderr.strip().splitlines() == [
        f"main.py: training stopped by SIGTERM at validation of epoch 2 step 0; last complete checkpoint: "
        f"{checkpoint}; resume with: python main.py -c {cfg} --validate -o val_interval=1 --resume"]
    assert os.path.isfile(checkpoint) and os.path.isfile(checkpoint.replace(".pdparams", ".pdopt"))
    assert "validation stopped: saved epoch 2 first" in proc.stdout


@pytest.fixture(scope="module")
def one_epoch(data, tmp_path_factory):
    """A finished 1-epoch run (one iteration): ``(config, output folder)``."""
    root = tmp_path_factory.mktemp("one_epoch")
    out = str(root / "out")
    cfg = write_small_config(data, out, path=str(root / "cfg.yaml"), epochs=1)


    class _Uncaptured:  # main_in_process reads output through capsys, which a module fixture cannot take
        def readouterr(self):
            return type("Output", (), {"out": "", "err": ""})()
    assert main_in_process("-c", cfg, "--max_iters", "1", capsys=_Uncaptured()).returncode == 0
    return cfg, out


@pytest.mark.slow  # one_epoch trains
def test_a_checkpoint_with_an_integer_key_is_one_line_in_test(one_epoch, tmp_path, capsys):
    cfg, out = one_epoch
    state = paddle.load(os.path.join(out, "TSN_demo_epoch_00001.pdparams"))
    state[7] = state["head.fc.bias"]
    odd = str(tmp_path / "odd.pdparams")
    paddle.save(state, odd)
    _one_error_line(main_in_process("-c", cfg, "--test", "-w", odd, capsys=capsys),
                    odd, "has a key that is not a tensor name: 7 (int)")


@pytest.mark.slow  # one_epoch trains
def test_optimizer_state_of_another_model_is_refused_at_resume_before_any_step(one_epoch, tmp_path, capsys):
    cfg, out = one_epoch
    pdopt = os.path.join(out, "TSN_demo_epoch_00001.pdopt")
    original = paddle.load(pdopt)
    try:
        other = dict(original)
        other["fc_0.w_0_velocity_0"] = paddle.zeros([512, 7])  # the fc of a 7-class model
        paddle.save(other, pdopt)
        proc = main_in_process("-c", cfg, "--resume", "-o", "epochs=2", capsys=capsys)
        _one_error_line(proc, pdopt, "is the optimizer state of another model",
                        "fc_0.w_0_velocity_0: [512, 7] in the file, parameter [512, 4]")
        assert "train step:" not in proc.stdout
    finally:
        paddle.save(original, pdopt)


def test_optimizer_state_check_accepts_its_own_and_counters_and_names_foreign_entries():
    from paddlevideo.modeling import build_model
    from conftest import small_config
    model = build_model(small_config().MODEL)
    own = {f"{p.name}_velocity_0": np.zeros(p.shape, "float32") for p in model.parameters()}
    own.update({"fc_0.w_0_beta1_pow_acc_0": np.ones([1], "float32"), "LR_Scheduler": {"last_epoch": 1}})
    check_optimizer_state(own, model, "own.pdopt")
    with pytest.raises(CheckpointError, match=r"1 entries for no parameter of this model \('res5c_branch2a"):
        check_optimizer_state(dict(own, res5c_branch2a_weights_velocity_0=np.zeros([3])), model, "r34.pdopt")
    with pytest.raises(CheckpointError, match="expected an optimizer state dict"):
        check_optimizer_state([1, 2], model, "list.pdopt")
