"""Predicting from <name>.yml: without -c, -c that disagrees, PaddleVideo exports (no .yml), ONNX without Paddle."""
import os
import re
import subprocess
import sys

import pytest

from conftest import DEMO_CFG, ROOT, SMALL, load_tool, make_checkpoint, small_config
from test_export_yml import block_paddle_env
from test_predict import without_yml

RESULT = re.compile(r"^Current video file: (.+)\n\ttop-1 class: (\d+)\n\ttop-1 score: ([0-9.e-]+)$", re.M)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small TSN exported to .pdmodel + .onnx + .yml (with class names), and the committed real clip."""
    pytest.importorskip("paddle2onnx")
    from paddlevideo.inference.export import export_model
    tmp = tmp_path_factory.mktemp("predict_yml")
    make_checkpoint(tmp / "small.pdparams", seed=2)
    (tmp / "labels.txt").write_text("0 zero\n1 one\n2 two\n3 three\n")
    export_model(small_config(), str(tmp / "small.pdparams"), str(tmp / "inf"), "small", onnx=True,
                 label_list=str(tmp / "labels.txt"))
    prefix = str(tmp / "inf" / "small")
    return {"tmp": tmp, "video": os.path.join(ROOT, "tests", "data", "bigbuckbunny_2s.mp4"),
            "pdmodel": prefix + ".pdmodel", "params": prefix + ".pdiparams", "onnx": prefix + ".onnx"}


def predict(capsys, argv, tool="tools/predict.py"):
    capsys.readouterr()
    code = load_tool(tool, "tool_yml_" + os.path.basename(tool)[:-3]).main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def model_args(m):
    return ["-i", m["video"], "--model_file", m["pdmodel"], "--params_file", m["params"], "--disable_glog"]


def one_result(out):
    """``(class, score, name line or None)`` of the single video in ``out``."""
    (path, cls, score), = RESULT.findall(out)
    names = re.findall(r"^\ttop-1 name: (.+)$", out, re.M)
    return int(cls), score, names[0] if names else None


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_predict_without_config_equals_with_config(model, capsys):
    code, out, err = predict(capsys, model_args(model))
    assert code == 0, err
    assert out.splitlines()[0] == "Inference model(TSN_demo)..."
    code_c, out_c, err_c = predict(capsys, ["-c", DEMO_CFG, "-o", *SMALL, *model_args(model)])
    assert code_c == 0 and "warning" not in err_c
    cls, score, name = one_result(out)
    assert (cls, score, name) == one_result(out_c)  # the same score, digit for digit
    assert name == ["zero", "one", "two", "three"][cls]  # class names from small.yml's label_list


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_disagreeing_config_gives_one_line_and_the_yml_is_used(model, capsys):
    _, reference, _ = predict(capsys, model_args(model))
    code, out, err = predict(capsys, ["-c", DEMO_CFG, "-o", "INFERENCE.target_size=48", *model_args(model)])
    assert code == 0 and one_result(out) == one_result(reference)
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == [
        "predict.py: warning: Sampler.num_seg (INFERENCE.num_seg) is 3 in small.yml but 25 in the config; "
        "TenCrop.target_size (INFERENCE.target_size) is 64 in small.yml but 48 in the config: using small.yml, "
        "the preprocessing the model was exported with"]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_paddlevideo_export_without_yml_needs_config(model, tmp_path, capsys):
    bare = without_yml(model, tmp_path / "bare")
    _, reference, _ = predict(capsys, model_args(model))
    code, out, err = predict(capsys, ["-c", DEMO_CFG, "-o", *SMALL, *model_args(bare)])
    assert code == 0 and "warning" not in err
    assert one_result(out)[:2] == one_result(reference)[:2] and one_result(out)[2] is None  # no class names
    code, out, err = predict(capsys, model_args(bare))
    assert code == 2 and "Current video file" not in out
    assert err.strip().splitlines() == [
        f"predict.py: error: no {tmp_path / 'bare' / 'small.yml'} beside the model (exported by PaddleVideo or "
        "without its description): pass -c CONFIG, the config the model was trained with"]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_override_without_config_and_no_model_are_errors(model, capsys):
    code, _, err = predict(capsys, ["-o", *SMALL, *model_args(model)])
    assert code == 2 and err.strip() == "predict.py: error: -o/--override changes the -c config: pass -c CONFIG as well"
    code, _, err = predict(capsys, ["-i", model["video"]])
    assert code == 2 and "pass --model_file <name>.pdmodel and --params_file" in err


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_predict_onnx_reads_the_yml_and_runs_without_paddle(model, tmp_path, capsys):
    _, reference, _ = predict(capsys, model_args(model))
    cmd = [sys.executable, os.path.join(ROOT, "deploy", "paddle2onnx", "predict_onnx.py"),
           "-i", model["video"], "--onnx_file", model["onnx"]]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path), env=block_paddle_env(tmp_path),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[0] == "Inference model(TSN_demo)..."
    cls, score, name = one_result(proc.stdout)
    ref_cls, ref_score, ref_name = one_result(reference)
    assert (cls, name) == (ref_cls, ref_name) and abs(float(score) - float(ref_score)) < 1e-4
    bare = without_yml(model, tmp_path / "bare")
    proc = subprocess.run(cmd[:-1] + [bare["onnx"]], capture_output=True, text=True, cwd=str(tmp_path),
                          env=block_paddle_env(tmp_path), timeout=300)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1].startswith(
        f"predict_onnx.py: error: no {tmp_path / 'bare' / 'small.yml'} beside the model")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_unknown_op_in_the_yml_is_one_line_naming_the_file(model, tmp_path, capsys):
    import yaml
    edited = without_yml(model, tmp_path / "edited")
    info = yaml.safe_load(open(model["pdmodel"][:-len(".pdmodel")] + ".yml"))
    info["preprocess"][3] = {"TenCorp": {"target_size": 64}}
    yml = tmp_path / "edited" / "small.yml"
    yml.write_text(yaml.safe_dump(info))
    code, out, err = predict(capsys, model_args(edited))
    assert code == 2 and "Current video file" not in out
    line, = err.strip().splitlines()
    assert line.startswith(f"predict.py: error: {yml}: preprocess: ") and "'TenCorp' is not a registered" in line


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_missing_model_without_config_and_tensorrt_with_onnx(model, tmp_path, capsys):
    code, _, err = predict(capsys, ["-i", model["video"], "--onnx_file", str(tmp_path / "gone.onnx")])
    assert code == 2 and err.strip() == f"predict.py: error: model file not found: {tmp_path / 'gone.onnx'}"
    code, _, err = predict(capsys, ["-i", model["video"], "--onnx_file", model["onnx"], "--use_tensorrt", "True"])
    assert code == 2 and err.strip().endswith("--use_tensorrt applies to Paddle Inference (--model_file), "
                                              "not to --onnx_file")
