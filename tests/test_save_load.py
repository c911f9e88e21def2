import os
import subprocess
import sys
import textwrap

import numpy as np
import paddle
import pytest

from paddlevideo.utils.save_load import CheckpointError, load, load_ckpt, save

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Backbone(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3)
        self.bn = paddle.nn.BatchNorm2D(4)


class Whole(paddle.nn.Layer):
    def __init__(self, classes=5):
        super().__init__()
        self.backbone = Backbone()
        self.fc = paddle.nn.Linear(4, classes)


def test_save_then_load_roundtrip(tmp_path):
    path = str(tmp_path / "sub" / "m.pdparams")
    state = {"a": paddle.to_tensor(np.arange(6, dtype="float32").reshape(2, 3))}
    save(state, path)
    assert os.listdir(tmp_path / "sub") == ["m.pdparams"], "no temp file may be left behind"
    np.testing.assert_array_equal(load(path)["a"].numpy(), state["a"].numpy())


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / "m.pdparams")
    save({"a": paddle.ones([3])}, path)

    def interrupted_rename(src, dst):
        raise KeyboardInterrupt("killed between writing the temp file and the rename")

    monkeypatch.setattr("paddlevideo.utils.atomic.os.replace", interrupted_rename)
    with pytest.raises(KeyboardInterrupt):
        save({"a": paddle.zeros([3])}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["a"].numpy(), np.ones(3, "float32"))
    assert os.listdir(tmp_path) == ["m.pdparams"]


def test_process_killed_mid_write_leaves_old_file_complete(tmp_path):
    path = tmp_path / "m.pdparams"
    save({"a": paddle.ones([4])}, str(path))
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {ROOT!r})
        import paddlevideo, paddle
        from paddlevideo.utils.save_load import save
        import paddlevideo.utils.atomic as atomic
        def die_before_rename(fd):
            os._exit(9)  # like kill -9 with the new checkpoint written to its temp file: no cleanup runs
        atomic.os.fsync = die_before_rename
        save({{"a": paddle.zeros([4])}}, {str(path)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    np.testing.assert_array_equal(load(str(path))["a"].numpy(), np.ones(4, "float32"))


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(CheckpointError, match=r"checkpoint not found: .*nope.pdparams"):
        load(str(tmp_path / "nope.pdparams"))
    empty = tmp_path / "empty.pdparams"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty \(0 bytes\): .*empty.pdparams"):
        load(str(empty))
    corrupt = tmp_path / "corrupt.pdparams"
    corrupt.write_bytes(b"this is not a pickle at all" * 10)
    with pytest.raises(CheckpointError, match=r"corrupt.pdparams is corrupt or not a Paddle checkpoint"):
        load(str(corrupt))
    truncated = tmp_path / "trunc.pdparams"
    save({"w": paddle.ones([100, 100])}, str(truncated))
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="trunc.pdparams is corrupt"):
        load(str(truncated))
    with pytest.raises(CheckpointError, match="is a folder"):
        load(str(tmp_path))


def test_mismatched_shapes_are_skipped_and_reported(tmp_path, caplog):
    paddle.seed(2)
    src = Whole(classes=5)
    path = str(tmp_path / "src.pdparams")
    save(src.state_dict(), path)
    dst = Whole(classes=3)
    fc_before = dst.fc.weight.numpy().copy()
    report = load_ckpt(dst, path)
    assert sorted(report["mismatched"]) == ["fc.bias", "fc.weight"]
    np.testing.assert_array_equal(dst.fc.weight.numpy(), fc_before)
    np.testing.assert_array_equal(dst.backbone.conv.weight.numpy(), src.backbone.conv.weight.numpy())
    with pytest.raises(CheckpointError, match=r"2 shape mismatches.*fc.weight: model \[4, 3\] vs file \[4, 5\]"):
        load_ckpt(Whole(classes=3), path, strict_shapes=True)


def test_a_file_that_is_not_a_state_dict_is_an_error(tmp_path):
    path = str(tmp_path / "other.pdparams")
    save([1, 2, 3], path)
    with pytest.raises(CheckpointError, match="expected a state dict"):
        load_ckpt(Backbone(), path)


def test_atomic_write_keeps_old_content_on_error_and_leaves_no_temp(tmp_path):
    from paddlevideo.utils.atomic import atomic_write
    target = tmp_path / "sub" / "out.txt"
    with atomic_write(str(target)) as (f, _):
        f.write("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_write(str(target)) as (f, _):
            f.write("second, half written")
            raise RuntimeError("disk on fire")
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_full_disk_is_one_clear_error_and_leaves_the_old_checkpoint(tmp_path):
    """A real full filesystem: a 256 KiB tmpfs (needs root to mount; skipped otherwise)."""
    disk = tmp_path / "tiny"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        path = str(disk / "TSN_epoch_00001.pdparams")
        save({"w": paddle.ones([8])}, path)
        with pytest.raises(CheckpointError, match=r"cannot write checkpoint .*TSN_epoch_00001.pdparams: No space "
                                                  r"left on device \(2.0 MiB needed, 0\.\d MiB free\)"):
            save({"w": paddle.ones([512, 1024])}, path)
        np.testing.assert_array_equal(load(path)["w"].numpy(), np.ones(8))
        assert sorted(os.listdir(disk)) == ["TSN_epoch_00001.pdparams"]  # no partial temp file left
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_any_bytes_that_are_not_a_checkpoint_give_the_corrupt_message(tmp_path):
    """Bytes that are not a pickle fail inside the unpickler in many ways (EOFError, KeyError, OverflowError for
    a string length beyond 2**63, ...): each is the one 'corrupt' error naming the file and the cause."""
    import random
    huge_string = b"\x80\x04\x8d" + (2**63 + 5).to_bytes(8, "little")  # BINUNICODE8 of an impossible length
    payloads = [huge_string] + [random.Random(seed).randbytes(2000) for seed in range(300)]
    payloads += [b"\x80\x04" + random.Random(seed).randbytes(200) for seed in range(300)]  # past the header
    bad = tmp_path / "bad.pdparams"
    for number, payload in enumerate(payloads):
        bad.write_bytes(payload)
        with pytest.raises(CheckpointError, match=r"bad.pdparams is corrupt or not a Paddle checkpoint|refused"):
            load(str(bad))
        if number == 0:
            with pytest.raises(CheckpointError, match=r"\(OverflowError: BINUNICODE exceeds"):
                load(str(bad))
