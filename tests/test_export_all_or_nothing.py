"""An export is all or nothing: a failure, Ctrl-C or a refused input leaves the previous export byte for byte
as it was (and no temporary folder); a complete one replaces the whole set, with the umask's file modes."""
import hashlib
import os
import shutil
import stat

import pytest

from conftest import DEMO_CFG, SMALL, load_tool, make_checkpoint, small_config

pytestmark = pytest.mark.slow  # every test here traces, exports or runs an exported model


@pytest.fixture(scope="module")
def first_export(tmp_path_factory):
    """Two checkpoints (different weights) and an export of the first one, for tests to copy."""
    from paddlevideo.inference.export import export_model
    tmp = tmp_path_factory.mktemp("first")
    make_checkpoint(tmp / "a.pdparams", seed=0)
    make_checkpoint(tmp / "b.pdparams", seed=1)
    export_model(small_config(), str(tmp / "a.pdparams"), str(tmp / "export"), "small")
    return tmp


@pytest.fixture
def old_export(first_export, tmp_path):
    """A copy of the first export in this test's folder: ``(folder, snapshot)``."""
    folder = tmp_path / "inference"
    shutil.copytree(first_export / "export", folder)
    return folder, snapshot(folder)


def snapshot(folder) -> dict:
    """Every entry of ``folder`` (hidden ones included) -> sha256 of a file's bytes, or 'folder'."""
    return {name: "folder" if (folder / name).is_dir() else hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in os.listdir(folder)}


def run_export(capsys, *argv):
    tool = load_tool("tools/export_model.py", "export_model_all_or_nothing")
    code = tool.main(["-c", DEMO_CFG, "--override", *SMALL, "--save_name", "small", *map(str, argv)])
    return code, capsys.readouterr()


def one_error_line(cap) -> str:
    lines = [line for line in cap.err.splitlines() if line.startswith("export_model.py:")]
    assert len(lines) == 1, cap.err
    assert "Traceback" not in cap.err
    return lines[0]


def test_the_first_export_holds_the_whole_set(old_export):
    folder, files = old_export
    assert sorted(files) == ["small.pdiparams", "small.pdiparams.info", "small.pdmodel", "small.yml"]


@pytest.mark.parametrize("failure", ["ctrl-c", "disk error"])
def test_a_failure_while_writing_leaves_the_old_export(monkeypatch, capsys, first_export, old_export, failure):
    """The new program and weights are already written when the .yml write fails: none of them is swapped in."""
    from paddlevideo.inference import export
    folder, before = old_export

    def fail(path, info):
        assert os.path.isfile(os.path.join(os.path.dirname(path), "small.pdiparams"))  # written, not yet in place
        raise KeyboardInterrupt() if failure == "ctrl-c" else OSError(28, "No space left on device", path)

    monkeypatch.setattr(export, "write_model_yml", fail)
    code, cap = run_export(capsys, "-p", first_export / "b.pdparams", "-o", folder)
    if failure == "ctrl-c":
        assert code == 130 and "export_model.py: interrupted" in cap.err
    else:
        assert code == 2 and one_error_line(cap) == (
            f"export_model.py: error: cannot write the export into {folder}: No space left on device "
            "(small.yml); the previous export is unchanged")
    assert snapshot(folder) == before  # same files, same bytes, no temporary folder


def test_a_crashing_onnx_conversion_leaves_the_old_export(monkeypatch, capsys, first_export, old_export):
    """paddle2onnx aborting its process (as it does on a graph it cannot convert) is one line, nothing replaced."""
    pytest.importorskip("paddle2onnx")
    from paddlevideo.inference import export
    folder, before = old_export
    monkeypatch.setattr(export, "_ONNX_CONVERTER", "import os, sys\nprint('[ERROR] cannot convert')\n"
                                                   "sys.stdout.flush()\nos.abort()")
    code, cap = run_export(capsys, "-p", first_export / "b.pdparams", "-o", folder, "--onnx")
    line = one_error_line(cap)
    assert code == 2 and "paddle2onnx could not convert small.pdmodel" in line
    assert "killed by SIGABRT" in line and "[ERROR] cannot convert" in line
    assert snapshot(folder) == before


@pytest.mark.parametrize("opset", [6, 22, 30])
def test_an_opset_paddle2onnx_cannot_convert_to_is_refused_at_start(capsys, first_export, old_export, opset):
    folder, before = old_export
    code, cap = run_export(capsys, "-p", first_export / "b.pdparams", "-o", folder, "--onnx", "--opset_version", opset)
    assert code == 2
    assert one_error_line(cap) == ("export_model.py: error: --opset_version must be between 7 and 21 "
                                   f"(the opsets paddle2onnx converts to), got {opset}")
    assert "Building model" not in cap.out and snapshot(folder) == before


def test_a_target_that_is_a_folder_is_refused_before_any_work(capsys, first_export, old_export):
    folder, _ = old_export
    os.remove(folder / "small.yml")
    os.mkdir(folder / "small.yml")
    before = snapshot(folder)
    code, cap = run_export(capsys, "-p", first_export / "b.pdparams", "-o", folder)
    assert code == 2 and f"{folder / 'small.yml'} exists and is not a file" in one_error_line(cap)
    assert snapshot(folder) == before


def test_a_complete_export_replaces_the_set_and_removes_files_of_earlier_exports(first_export, old_export):
    from paddlevideo.inference.export import export_model
    folder, before = old_export
    (folder / "small.onnx").write_bytes(b"an onnx of the old weights")
    (folder / "small.json").write_bytes(b"a PIR program of the old weights")
    (folder / "other.yml").write_text("not ours\n")
    old_umask = os.umask(0o022)
    try:
        result = export_model(small_config(), str(first_export / "b.pdparams"), str(folder), "small")
    finally:
        os.umask(old_umask)
    after = snapshot(folder)
    assert sorted(after) == ["other.yml", "small.pdiparams", "small.pdiparams.info", "small.pdmodel", "small.yml"]
    assert after["small.pdiparams"] != before["small.pdiparams"]  # the new weights
    assert sorted(map(os.path.basename, result["removed"])) == ["small.json", "small.onnx"]
    assert [os.path.basename(p) for p in result["files"]] == ["small.pdmodel", "small.pdiparams", "small.yml"]
    for name in after:
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644, name


def test_files_and_a_new_folder_get_the_umasks_modes(first_export, tmp_path):
    """Not the temporary folder's private 0700 nor mkstemp's 0600: what open()/mkdir() give under the umask."""
    from paddlevideo.inference.export import export_model
    old_umask = os.umask(0o027)
    try:
        export_model(small_config(), str(first_export / "a.pdparams"), str(tmp_path / "new" / "inference"), "small")
    finally:
        os.umask(old_umask)
    folder = tmp_path / "new" / "inference"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert sorted(os.listdir(folder)) == ["small.pdiparams", "small.pdiparams.info", "small.pdmodel", "small.yml"]
    for name in os.listdir(folder):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o640, name


def test_an_output_that_is_an_input_is_refused(capsys, first_export, tmp_path):
    weights = tmp_path / "w.pdparams"
    shutil.copy(first_export / "a.pdparams", weights)
    code, cap = run_export(capsys, "-p", weights, "-o", weights)  # -o names the checkpoint
    assert code == 2 and f"the output {weights} is the same file as -p {weights}" in one_error_line(cap)
    out = tmp_path / "inference"
    out.mkdir()
    shutil.copy(DEMO_CFG, out / "small.yml")  # the config would be replaced by the export's description
    tool = load_tool("tools/export_model.py", "export_model_all_or_nothing")
    code = tool.main(["-c", str(out / "small.yml"), "--override", *SMALL, "--save_name", "small",
                      "-p", str(weights), "-o", str(out)])
    cap = capsys.readouterr()
    assert code == 2 and f"is the same file as -c {out / 'small.yml'}" in one_error_line(cap)
    assert (out / "small.yml").read_bytes() == open(DEMO_CFG, "rb").read()
    assert sorted(os.listdir(out)) == ["small.yml"]


def test_a_checkpoint_with_an_integer_key_is_one_line(capsys, tmp_path):
    import paddle
    make_checkpoint(tmp_path / "a.pdparams")
    state = paddle.load(str(tmp_path / "a.pdparams"))
    state[3] = paddle.zeros([2])
    paddle.save(state, str(tmp_path / "odd.pdparams"))
    code, cap = run_export(capsys, "-p", tmp_path / "odd.pdparams", "-o", tmp_path / "out")
    assert code == 2
    line = one_error_line(cap)
    assert line.startswith(f"export_model.py: error: checkpoint {tmp_path / 'odd.pdparams'} has a key that is not")
    assert "3 (int)" in line
    assert not (tmp_path / "out").exists()


def test_a_label_list_giving_an_index_twice_is_refused(capsys, first_export, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("0 red\n1 green\n1 blue\n2 grey\n3 noise\n", encoding="utf-8")
    code, cap = run_export(capsys, "-p", first_export / "a.pdparams", "-o", tmp_path / "out", "--label_list", labels)
    assert code == 2
    assert one_error_line(cap) == (f"export_model.py: error: {labels} line 3: class index 1 is given twice "
                                   "(first on line 2); expected one '<index> <name>' line per class")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["sub/run", "..", "x" * 241])
def test_the_export_name_is_one_file_name(capsys, first_export, tmp_path, name):
    code, cap = run_export(capsys, "-p", first_export / "a.pdparams", "-o", tmp_path / "out", "--save_name", name)
    assert code == 2 and "the export name (--save_name, else the config's model_name)" in one_error_line(cap)
    assert not (tmp_path / "out").exists()
