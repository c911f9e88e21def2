"""utils.staged_files, which makes an export all or nothing: the swap, its undo, and what it leaves behind."""
import os

import pytest

from paddlevideo.utils import staged_files as staging
from paddlevideo.utils.staged_files import StagedFilesError, staged_files


def contents(folder) -> dict:
    return {name: open(os.path.join(folder, name), "rb").read() if os.path.isfile(os.path.join(folder, name))
            else "folder" for name in os.listdir(folder)}


def test_commit_swaps_the_set_in_and_removes_obsolete_files(tmp_path):
    for name, data in (("m.pdmodel", b"old program"), ("m.onnx", b"old onnx"), ("keep.txt", b"other")):
        (tmp_path / name).write_bytes(data)
    with staged_files(str(tmp_path), "m.export") as stage:
        for name in ("m.pdmodel", "m.yml"):
            with open(stage.path(name), "wb") as f:
                f.write(b"new " + name.encode())
        assert contents(tmp_path)["m.pdmodel"] == b"old program"  # nothing visible before the commit
        written = stage.commit(obsolete=["m.onnx"])
    assert sorted(map(os.path.basename, written)) == ["m.pdmodel", "m.yml"]
    assert contents(tmp_path) == {"m.pdmodel": b"new m.pdmodel", "m.yml": b"new m.yml", "keep.txt": b"other"}


def test_a_failed_rename_puts_the_previous_files_back(tmp_path, monkeypatch):
    (tmp_path / "m.pdmodel").write_bytes(b"old program")
    (tmp_path / "m.yml").write_bytes(b"old yml")
    real_replace = os.replace

    def replace(src, dst):
        moving_the_new_yml_in = os.path.basename(os.path.dirname(src)).startswith(".m.export.")
        if moving_the_new_yml_in and os.path.basename(src) == "m.yml":  # after the old one was moved away
            raise OSError(5, "Input/output error", dst)
        real_replace(src, dst)

    with pytest.raises(StagedFilesError, match=r"cannot replace .*m\.yml: Input/output error; the previous files"):
        with staged_files(str(tmp_path), "m.export") as stage:
            for name in ("m.pdmodel", "m.yml"):
                with open(stage.path(name), "wb") as f:
                    f.write(b"new")
            monkeypatch.setattr(staging.os, "replace", replace)
            stage.commit()
    assert contents(tmp_path) == {"m.pdmodel": b"old program", "m.yml": b"old yml"}


def test_an_error_before_the_commit_removes_the_temporary_folder_and_a_folder_it_created(tmp_path):
    target = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError):
        with staged_files(str(target), "m.export") as stage:
            open(stage.path("m.pdmodel"), "wb").close()
            raise RuntimeError("failed half-way")
    assert not target.exists() and os.listdir(tmp_path / "new") == []
    (tmp_path / "kept").mkdir()
    with pytest.raises(KeyboardInterrupt):
        with staged_files(str(tmp_path / "kept"), "m.export"):
            raise KeyboardInterrupt()
    assert os.listdir(tmp_path / "kept") == []  # an existing folder stays, empty as it was


def test_a_folder_in_the_way_is_refused_and_left_alone(tmp_path):
    (tmp_path / "m.yml").mkdir()
    (tmp_path / "m.yml" / "notes.txt").write_text("mine")
    with pytest.raises(StagedFilesError, match=r"m\.yml exists and is not a file"):
        with staged_files(str(tmp_path), "m.export") as stage:
            open(stage.path("m.yml"), "wb").close()
            stage.commit()
    assert (tmp_path / "m.yml" / "notes.txt").read_text() == "mine" and os.listdir(tmp_path) == ["m.yml"]


def test_an_output_folder_that_is_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(StagedFilesError, match=r"cannot write into the output folder .*out: File exists"):
        with staged_files(str(tmp_path / "out"), "m.export"):
            pass
