"""--precision int8 on CPU (oneDNN int8 on a quantized model), and weights checked against the program."""
import os
import re
import shutil

import pytest

from conftest import make_checkpoint, small_config
from test_predict import model, paddle_args, parse_results, predict  # noqa: F401  (module fixture)
from test_quant_post_static import export, quantized  # noqa: F401  (module fixtures: an export and its int8 model)


def copy_export(model, folder, yml_extra=""):  # noqa: F811
    """The model's .pdmodel/.pdiparams/.yml in ``folder``, with ``yml_extra`` appended to the .yml."""
    folder.mkdir()
    prefix = model["pdmodel"][:-len(".pdmodel")]
    for suffix in (".pdmodel", ".pdiparams", ".yml"):
        shutil.copyfile(prefix + suffix, folder / ("small" + suffix))
    with open(folder / "small.yml", "a", encoding="utf-8") as f:
        f.write(yml_extra)
    return {**model, "pdmodel": str(folder / "small.pdmodel"), "params": str(folder / "small.pdiparams")}


def one_line(capsys, argv):
    code, out, err = predict(capsys, argv)
    assert code == 2 and "Current video file" not in out and "Traceback" not in err, err
    line, = err.strip().splitlines()
    return line


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_int8_refused_for_a_model_never_quantized(model, capsys):  # noqa: F811
    line = one_line(capsys, paddle_args(model, "--use_gpu", "False", "--precision", "int8"))
    assert line == (f"predict.py: error: --precision int8 needs a quantized model, and {model['pdmodel']} was never "
                    "quantized: run deploy/slim/quant_post_static.py on its export first, then predict with the "
                    "model it writes")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_int8_runs_a_model_marked_quantized(model, tmp_path, capsys):  # noqa: F811
    """The .yml marker that deploy/slim/quant_post_static.py writes selects oneDNN int8; fp32 then hints."""
    marked = copy_export(model, tmp_path / "q", "quantized: int8\n")
    code, out, err = predict(capsys, paddle_args(marked, "--use_gpu", "False", "--precision", "int8"))
    assert code == 0 and len(parse_results(out)) == 1 and "hint" not in err
    code, out, err = predict(capsys, paddle_args(marked, "--use_gpu", "False"))
    assert code == 0 and len(parse_results(out)) == 1
    assert [line for line in err.splitlines() if "quantized" in line] == [
        f"predict.py: hint: {marked['pdmodel']} is quantized (int8): pass --precision int8 to run it with "
        "oneDNN's int8 kernels (running it as fp32 now)"]
    line = one_line(capsys, paddle_args(marked, "--use_gpu", "False", "--precision", "int8", "--enable_mkldnn", "False"))
    assert line == "predict.py: error: --precision int8 runs on oneDNN: drop --enable_mkldnn False"
    bad = copy_export(model, tmp_path / "bad", "quantized: int4\n")
    assert "small.yml: quantized must be int8, got 'int4'" in one_line(capsys, paddle_args(bad))


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_int8_is_refused_for_onnx(model, capsys):  # noqa: F811
    argv = ["-i", model["video"], "--onnx_file", model["onnx"], "--precision", "int8"]
    assert one_line(capsys, argv).endswith("--precision int8 applies to Paddle Inference (--model_file), "
                                           "not to --onnx_file")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_weights_cut_short_or_of_another_model_name_both_files(model, tmp_path, capsys):  # noqa: F811
    cut = copy_export(model, tmp_path / "cut")
    size = os.path.getsize(cut["params"])
    with open(cut["params"], "r+b") as f:
        f.truncate(size - 100_000)
    line = one_line(capsys, paddle_args(cut))
    assert line.startswith(f"predict.py: error: {cut['params']} does not fit {cut['pdmodel']}: the weights file is "
                           "cut short")
    with open(cut["params"], "ab") as f:
        f.write(b"\0" * 200_000)  # now too long
    assert "bytes more than the program's 107 tensors" in one_line(capsys, paddle_args(cut))
    from paddlevideo.inference.export import export_model
    make_checkpoint(tmp_path / "seven.pdparams", num_classes=7)
    export_model(small_config(7), str(tmp_path / "seven.pdparams"), str(tmp_path / "seven"), "small")
    other = copy_export(model, tmp_path / "other")
    shutil.copyfile(tmp_path / "seven" / "small.pdiparams", other["params"])
    line = one_line(capsys, paddle_args(other))
    assert line.startswith(f"predict.py: error: {other['params']} does not fit {other['pdmodel']}: tensor ")
    assert re.search(r"is \[(512, )?7\] in the weights but \[(512, )?4\] in the program", line), line  # the fc


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_the_model_quant_post_static_writes_predicts_with_int8(export, quantized, capsys):  # noqa: F811
    """The contract end to end: deploy/slim/quant_post_static.py's output runs with --precision int8."""
    assert quantized["proc"].returncode == 0, quantized["proc"].stderr[-2000:]
    clip = str(export["tmp"] / "clip0.avi")
    files = {name: ["--model_file", os.path.join(folder, "small.pdmodel"),
                    "--params_file", os.path.join(folder, "small.pdiparams")]
             for name, folder in (("fp32", export["dir"]), ("int8", quantized["dir"]))}
    code, out, err = predict(capsys, ["-i", clip, *files["int8"], "--use_gpu", "False", "--precision", "int8"])
    assert code == 0 and len(parse_results(out)) == 1 and "hint" not in err, err
    code, out, err = predict(capsys, ["-i", clip, *files["int8"], "--use_gpu", "False"])
    assert code == 0 and "is quantized (int8): pass --precision int8" in err
    line = one_line(capsys, ["-i", clip, *files["fp32"], "--use_gpu", "False", "--precision", "int8"])
    assert "was never quantized: run deploy/slim/quant_post_static.py" in line
