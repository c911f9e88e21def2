"""Loading a checkpoint never runs code: crafted pickles are refused through every path that reads one
(-w, MODEL.backbone.pretrained, resume_epoch, export -p), and what paddle.save writes still loads.
The commands run in-process: the refusal happens while loading, not at a process boundary."""
import os
import pickle
import subprocess

import numpy as np
import paddle
import pytest

from paddlevideo.utils.save_load import CheckpointError, load

from conftest import load_tool, main_in_process, make_rawframes, write_config


class _RunsCommand:
    """Unpickles into ``os.system(command)``: the classic malicious checkpoint."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _EvalsCode:
    """Unpickles into ``eval(code)``, disguised as Paddle's own tensor form."""

    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (eval, (self.code, {"data": np.zeros(1)}))


class _PaddleDenseTensorForm:
    """What paddle.save's reducer writes for a DenseTensor."""

    def __init__(self, array):
        self.array = array

    def __reduce__(self):
        return (eval, ("data", {"data": self.array}))


def _crafted(path, marker, protocol=4, kind=_RunsCommand):
    payload = f"touch {marker}" if kind is _RunsCommand else f"open({str(marker)!r}, 'w')"
    with open(path, "wb") as f:
        pickle.dump({"backbone.conv._conv.weight": kind(payload)}, f, protocol=protocol)
    return str(path)


@pytest.mark.parametrize("kind, protocol", [(_RunsCommand, 4), (_RunsCommand, 2), (_EvalsCode, 4)])
def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path, kind, protocol):
    marker = tmp_path / "pwned"
    path = _crafted(tmp_path / "evil.pdparams", marker, protocol, kind)
    with pytest.raises(CheckpointError, match=r"evil.pdparams refused: it asks to load (posix.system|builtins.eval)"):
        load(path)
    assert not marker.exists()


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, paddle.Tensor):
        return a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())
    return a == b


def test_everything_paddle_save_writes_for_checkpoints_still_loads(tmp_path):
    net = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.BatchNorm2D(4))
    sched = paddle.optimizer.lr.PiecewiseDecay([2, 4], [0.1, 0.01, 0.001])
    opt = paddle.optimizer.Momentum(sched, parameters=net.parameters(), weight_decay=1e-4)
    net(paddle.randn([1, 3, 5, 5])).sum().backward()
    opt.step()
    sched.step()
    tensor = paddle.to_tensor([1.0, 2.0])
    objects = {"model.pdparams": net.state_dict(), "model_protocol2.pdparams": net.state_dict(),
               "momentum.pdopt": opt.state_dict(),
               "data_parallel.pdparams": paddle.nn.Layer.state_dict(paddle.DataParallel(net)),
               "nested.pdparams": {"a": [tensor, {"b": tensor}], "lr": np.float64(0.5), "epoch": 3}}
    for name, obj in objects.items():
        path = str(tmp_path / name)
        paddle.save(obj, path, protocol=2 if "protocol2" in name else 4)
        assert _same(load(path), paddle.load(path)), name
    # Paddle pickles a raw DenseTensor as eval('data', {'data': array}): that exact form is accepted.
    dense = tmp_path / "dense_tensor.pdparams"
    with open(dense, "wb") as f:
        pickle.dump({"t": _PaddleDenseTensorForm(np.arange(3.0))}, f, protocol=4)
    assert np.array_equal(np.asarray(load(str(dense))["t"]), np.arange(3.0))
    # A state dict as numpy 1.x (Paddle 2.x era) pickled it: the arrays' module is numpy.core.multiarray.
    old = tmp_path / "numpy1.pdparams"
    data = (tmp_path / "model_protocol2.pdparams").read_bytes()
    assert b"numpy._core.multiarray" in data
    old.write_bytes(data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert _same(load(str(old)), paddle.load(str(tmp_path / "model_protocol2.pdparams")))


def _one_error_line(proc, program, *needles):
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{program}: error: "), proc.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0]


def test_every_command_that_reads_a_checkpoint_refuses_a_crafted_one(tmp_path, capsys):
    data = make_rawframes(str(tmp_path / "frames"), per_class=2, val_per_class=1)
    out = tmp_path / "out"
    cfg = write_config(data, str(out), epochs=1)
    marker = tmp_path / "pwned"
    evil = _crafted(tmp_path / "evil.pdparams", marker)

    def main(*args):
        return main_in_process(*args, capsys=capsys)
    _one_error_line(main("-c", cfg, "--test", "-w", evil), "main.py", "evil.pdparams refused", "posix.system")
    _one_error_line(main("-c", cfg, "-w", evil), "main.py", "evil.pdparams refused")
    _one_error_line(main("-c", cfg, "-o", f"MODEL.backbone.pretrained={evil}"), "main.py", "evil.pdparams refused")
    out.mkdir(exist_ok=True)
    _crafted(out / "TSN_demo_epoch_00001.pdparams", marker)
    _crafted(out / "TSN_demo_epoch_00001.pdopt", marker)
    _one_error_line(main("-c", cfg, "-o", "resume_epoch=1", "-o", "epochs=2"), "main.py", "refused")
    export_tool = load_tool("tools/export_model.py", "export_model_safe_checkpoints")
    capsys.readouterr()
    code = export_tool.main(["-c", cfg, "-p", evil, "-o", str(tmp_path / "inference")])
    printed = capsys.readouterr()
    _one_error_line(subprocess.CompletedProcess("export", code, printed.out, printed.err), "export_model.py",
                    "evil.pdparams refused")
    assert not marker.exists()
