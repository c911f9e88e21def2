"""tools/predict.py and deploy/paddle2onnx/predict_onnx.py: output lines, inputs, flags, clear errors."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import REAL_CLIP, write_video
from conftest import DEMO_CFG, ROOT, SMALL, load_tool, make_checkpoint, small_config

LINE_FILE = re.compile(r"^Current video file: (.+)$")
LINE_CLASS = re.compile(r"^\ttop-1 class: (\d+)$")
LINE_SCORE = re.compile(r"^\ttop-1 score: (0\.\d+|1\.0)$")
LOG_LINE = re.compile(r"^\[\d\d/\d\d \d\d:\d\d:\d\d\] ")  # the paddlevideo logger (stdout)


_EXPORTS = {}  # one export per test session, shared by every module that imports the fixture


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small TSN exported in-process to .pdmodel + .json + .onnx, and a real (or generated) video.

    Exported once per session (the modules importing this fixture share it); tests copy before changing."""
    pytest.importorskip("paddle2onnx")
    key = str(tmp_path_factory.getbasetemp())
    if key not in _EXPORTS:
        _EXPORTS[key] = _export_small(tmp_path_factory.mktemp("predict"))
    return _EXPORTS[key]


def _export_small(tmp):
    from paddlevideo.inference.export import export_model
    make_checkpoint(tmp / "small.pdparams", seed=1)
    export_model(small_config(), str(tmp / "small.pdparams"), str(tmp / "inf"), "small",
                 formats=("pdmodel", "json"), onnx=True)
    video = REAL_CLIP  # real H.264, committed with the tests
    # PaddleVideo's kind of export: a fixed view count (all 30 views at once)
    export_model(small_config(), str(tmp / "small.pdparams"), str(tmp / "fixed"), "small", onnx=True,
                 fixed_views=True)
    prefix = str(tmp / "inf" / "small")
    return {"tmp": tmp, "fixed": str(tmp / "fixed" / "small"), "video": video, "pdmodel": prefix + ".pdmodel",
            "params": prefix + ".pdiparams", "json": prefix + ".json", "onnx": prefix + ".onnx"}


def paddle_args(m, *extra):
    return ["-c", DEMO_CFG, "-o", *SMALL, "-i", m["video"], "--model_file", m["pdmodel"],
            "--params_file", m["params"], "--disable_glog", *extra]


def predict(capsys, argv, tool="tools/predict.py"):
    capsys.readouterr()  # drop earlier output (checkpoint loading logs)
    code = load_tool(tool, "tool_" + os.path.basename(tool)[:-3]).main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def parse_results(stdout):
    """``[(file, class, score)]`` from PaddleVideo's three lines per video; every line must match."""
    lines = [line for line in stdout.splitlines()
             if not line.startswith(("Inference model(", "[benchmark]", "top-1 accuracy:")) and not LOG_LINE.match(line)]
    assert len(lines) % 3 == 0, stdout
    out = []
    for i in range(0, len(lines), 3):
        f, c, s = LINE_FILE.match(lines[i]), LINE_CLASS.match(lines[i + 1]), LINE_SCORE.match(lines[i + 2])
        assert f and c and s, lines[i:i + 3]
        out.append((f.group(1), int(c.group(1)), float(s.group(1))))
    return out


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_cli_end_to_end_prints_paddlevideo_lines(model, capsys):
    """A first run is quiet by default: the result lines, and on stderr at most the one precision line;
    Paddle's pass log (and, on a bf16 CPU, the bf16 passes' C++ lines) stays hidden."""
    from paddlevideo.inference.predictors import bf16_flags
    precision = "bf16" if bf16_flags() else "fp32"
    argv = [arg for arg in paddle_args(model, "--use_gpu", "False", "--precision", precision)
            if arg != "--disable_glog"]
    cmd = [sys.executable, os.path.join(ROOT, "tools", "predict.py"), *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "Inference model(TSN_demo)..." and len(lines) == 4, proc.stdout
    assert len(proc.stderr.splitlines()) <= 1, proc.stderr
    (path, cls, score), = parse_results(proc.stdout)
    # An in-process run of the same command prints the same class and score, digit for digit.
    _, out, _ = predict(capsys, argv)
    assert path == model["video"] and parse_results(out) == [(path, cls, score)]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_score_is_softmax_of_dygraph_logits(model, capsys):
    """The printed class/score come from the exported graph and equal softmax(infer_step) (float32 repr)."""
    import paddle
    from paddlevideo.inference.api import softmax
    from paddlevideo.inference.preprocess import build_preprocessor
    from paddlevideo.modeling import build_model
    from paddlevideo.utils.save_load import load_ckpt
    with paddle.utils.unique_name.guard():
        net = build_model(small_config().MODEL)
    load_ckpt(net, str(model["tmp"] / "small.pdparams"))
    net.eval()
    with paddle.no_grad():
        logits = net.infer_step([paddle.to_tensor(build_preprocessor(small_config().INFERENCE)(model["video"]))])
    probs = softmax(logits.numpy())[0]
    code, out, _ = predict(capsys, paddle_args(model, "--enable_mkldnn", "False"))
    (_, cls, score), = parse_results(out)
    assert code == 0 and cls == int(np.argmax(probs))
    assert abs(score - float(probs[cls])) <= 1e-5


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_json_onnx_and_predict_onnx_agree(model, capsys):
    _, ref, _ = predict(capsys, paddle_args(model))
    args_json = paddle_args(model)
    args_json[args_json.index(model["pdmodel"])] = model["json"]
    code_json, out_json, _ = predict(capsys, args_json)
    onnx = ["-c", DEMO_CFG, "-o", *SMALL, "-i", model["video"], "--onnx_file", model["onnx"]]
    code_onnx, out_onnx, _ = predict(capsys, onnx)
    code_deploy, out_deploy, _ = predict(capsys, onnx, tool="deploy/paddle2onnx/predict_onnx.py")
    (f0, c0, s0), = parse_results(ref)
    for code, out in ((code_json, out_json), (code_onnx, out_onnx), (code_deploy, out_deploy)):
        (f, c, s), = parse_results(out)
        assert code == 0 and (f, c) == (f0, c0) and abs(s - s0) < 1e-4


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_folder_list_labels_json_and_benchmark(model, tmp_path, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(str(videos / "b.avi"), num_frames=20, seed=1)
    write_video(str(videos / "a.mp4"), num_frames=33, seed=2)
    (videos / "c.avi").write_bytes(b"not a video")
    (videos / "notes.txt").write_text("ignored: not a video")
    labels = tmp_path / "labels.txt"
    labels.write_text("0 zero\n1 one\n2 two\n3 three\n")
    out_json = tmp_path / "res" / "out.json"
    argv = paddle_args(model)
    argv[argv.index(model["video"])] = str(videos)
    code, out, err = predict(capsys, argv + ["-b", "2", "--label_list", str(labels),
                                            "--output_json", str(out_json), "--enable_benchmark", "True"])
    assert code == 2  # one video failed; the others were still predicted
    assert "predict.py: error: " in err and str(videos / "c.avi") in err
    body = [line for line in out.splitlines() if not line.startswith(("Inference", "[benchmark]"))]
    assert body[0] == f"Current video file: {videos / 'a.mp4'}" and body[4] == f"Current video file: {videos / 'b.avi'}"
    assert re.match(r"^\ttop-1 class: \d$", body[1]) and re.match(r"^\ttop-1 score: [0-9.e-]+$", body[2])
    assert re.match(r"^\ttop-1 name: (zero|one|two|three)$", body[3])
    bench = [line for line in out.splitlines() if line.startswith("[benchmark]")]
    assert len(bench) == 1 and re.search(r"preprocess: [\d.]+ ms/video, inference: [\d.]+ ms/video, "
                                         r"postprocess: [\d.]+ ms/video; [\d.]+ videos/s", bench[0])
    saved = json.loads(out_json.read_text())
    assert [r["file"] for r in saved["results"]] == [str(videos / "a.mp4"), str(videos / "b.avi")]
    assert saved["failures"][0]["file"] == str(videos / "c.avi") and "benchmark_ms_per_video" in saved
    # the same videos named in a list file (VideoDataset style, relative to the list's folder)
    (videos / "val.list").write_text("a.mp4 0\nb.avi 3\n")
    argv[argv.index(str(videos))] = str(videos / "val.list")
    code, out, err = predict(capsys, argv)
    assert code == 0 and [r[0] for r in parse_results(out)] == [str(videos / "a.mp4"), str(videos / "b.avi")]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_memory_optim_refusal_falls_back(model, monkeypatch):
    """Paddle 3.3.1 rejects enable_memory_optim for a PIR program on CPU; the predictor must still work."""
    from paddlevideo.inference.predictors import PaddlePredictor
    assert PaddlePredictor(model["pdmodel"], model["params"], disable_glog=True).memory_optim is True
    monkeypatch.setattr(PaddlePredictor, "wants_memory_optim", staticmethod(lambda model_file, use_gpu: True))
    predictor = PaddlePredictor(model["json"], model["params"], disable_glog=True)
    assert predictor.memory_optim is False  # asked, refused, created again without it
    assert predictor.run(np.zeros([1, 30, 3, 64, 64], np.float32)).shape == (1, 4)


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_batch_of_two_equals_one_by_one(model):
    from paddlevideo.inference.predictors import PaddlePredictor
    from paddlevideo.inference.preprocess import build_preprocessor
    pre = build_preprocessor(small_config().INFERENCE)
    a = pre(model["video"])
    b = a[:, :, :, ::-1].copy()
    predictor = PaddlePredictor(model["pdmodel"], model["params"], disable_glog=True)
    both = predictor.run(np.concatenate([a, b]))
    single = np.concatenate([predictor.run(a), predictor.run(b)])
    assert np.allclose(both, single, rtol=1e-4, atol=1e-5)


@pytest.mark.slow  # exports a small model (module fixture) and runs it
@pytest.mark.parametrize("flags", [["--use_tensorrt", "True"], ["--use_tensorrt", "True", "--precision", "fp16"]])
def test_tensorrt_on_cpu_build_is_one_line_exit_2(model, capsys, flags):
    import paddle
    if paddle.is_compiled_with_cuda():
        pytest.skip("this Paddle has CUDA: the CPU-build refusal does not apply")
    code, out, err = predict(capsys, paddle_args(model, *flags))
    assert code == 2 and "Current video file" not in out
    assert err.strip().splitlines() == [
        "predict.py: error: --use_tensorrt True needs paddlepaddle-gpu built with TensorRT; this Paddle is a "
        "CPU build (drop --use_tensorrt, or install a GPU build with TensorRT)"]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_use_gpu_true_on_cpu_build_warns_and_runs(model, capsys):
    import paddle
    from paddlevideo.inference.predictors import resolve_use_gpu
    if paddle.is_compiled_with_cuda():
        pytest.skip("this Paddle has CUDA")
    assert resolve_use_gpu(None) is False  # the default follows the build
    code, out, _ = predict(capsys, paddle_args(model, "--use_gpu", "True"))
    assert code == 0 and len(parse_results(out)) == 1
    assert "running on CPU" in out  # the logger writes to stdout


def test_gpu_settings_helpers():
    from paddle import inference
    from paddlevideo.inference.predictors import tensorrt_max_batch_size, tensorrt_precision
    assert tensorrt_max_batch_size(2, 250) == 500  # videos x frames per video (25 segments x 10 TenCrop views)
    assert tensorrt_precision("fp16") == inference.PrecisionType.Half
    assert tensorrt_precision("int8") == inference.PrecisionType.Int8
    assert tensorrt_precision("fp32") == inference.PrecisionType.Float32


def one_error(capsys, argv):
    code, out, err = predict(capsys, argv)
    assert code == 2 and "Current video file" not in out
    lines = err.strip().splitlines()
    return lines[-1]


def without_yml(model, folder):
    """The model's files in ``folder`` without ``small.yml``: what PaddleVideo's export leaves."""
    import shutil
    folder.mkdir()
    copies = {key: str(folder / os.path.basename(model[key])) for key in ("pdmodel", "params", "onnx")}
    for key, path in copies.items():
        shutil.copyfile(model[key], path)
    return {**model, **copies}


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_mismatched_num_seg_is_clear(model, tmp_path, capsys):
    """A fixed-view export (PaddleVideo's) without small.yml: the config's INFERENCE section is used, and
    another num_seg cannot feed the model."""
    fixed = {**model, "pdmodel": model["fixed"] + ".pdmodel", "params": model["fixed"] + ".pdiparams",
             "onnx": model["fixed"] + ".onnx"}
    bare = without_yml(fixed, tmp_path / "bare")
    argv = paddle_args(bare)
    argv[argv.index(SMALL[0])] = "INFERENCE.num_seg=4"
    line = one_error(capsys, argv)
    assert "expects input ['?', 30, 3, 64, 64]" in line
    assert "the config's INFERENCE section produces [1, 40, 3, 64, 64]" in line
    argv = ["-c", DEMO_CFG, "-o", "INFERENCE.num_seg=4", "-i", bare["video"], "--onnx_file", bare["onnx"]]
    assert "expects input ['?', 30, 3, 64, 64]" in one_error(capsys, argv)


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_wrong_model_files_are_clear(model, tmp_path, capsys):
    junk = tmp_path / "junk.pdmodel"
    junk.write_bytes(os.urandom(4096))  # Paddle Inference itself would crash with SIGSEGV on this
    argv = paddle_args(model)
    argv[argv.index(model["pdmodel"])] = str(junk)
    assert f"--model_file {junk} is not a Paddle program" in one_error(capsys, argv)
    argv[argv.index(str(junk))] = model["params"]
    assert "is a weights file" in one_error(capsys, argv)
    argv[argv.index("--model_file") + 1] = str(tmp_path / "missing.pdmodel")
    assert "--model_file: file not found" in one_error(capsys, argv)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"x": 1}')
    argv[argv.index("--model_file") + 1] = str(bad_json)
    assert "is not a Paddle PIR program" in one_error(capsys, argv)
    argv[argv.index("--model_file") + 1] = model["pdmodel"]
    junk_params = tmp_path / "junk.pdiparams"
    junk_params.write_bytes(os.urandom(4096))
    argv[argv.index("--params_file") + 1] = str(junk_params)
    assert f"{junk_params} does not fit {model['pdmodel']}: not the program's weights file" in one_error(capsys, argv)


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_missing_and_corrupt_video_are_clear(model, tmp_path, capsys):
    argv = paddle_args(model)
    argv[argv.index(model["video"])] = str(tmp_path / "none.avi")
    assert one_error(capsys, argv) == f"predict.py: error: input file not found: {tmp_path / 'none.avi'}"
    bad = tmp_path / "bad.avi"
    bad.write_bytes(os.urandom(3000))
    argv[argv.index(str(tmp_path / "none.avi"))] = str(bad)
    code, out, err = predict(capsys, argv)
    assert code == 2 and "Current video file" not in out
    assert any(line.startswith("predict.py: error: ") and str(bad) in line for line in err.splitlines())


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_missing_onnxruntime_gives_pip_command(model, monkeypatch):
    from paddlevideo.inference.predictors import MissingDependencyError
    from paddlevideo.inference.predictors import OnnxPredictor
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingDependencyError, match="pip install onnxruntime"):
        OnnxPredictor(model["onnx"])


def test_postprocess_lines_and_label_list(tmp_path):
    from paddlevideo.inference.model import InferenceError
    from paddlevideo.inference.api import format_result, postprocess
    from paddlevideo.inference.model import load_label_list
    logits = np.array([[0.0, 3.0, 1.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [2.0, 0.0, 0.0]], np.float32)
    results = postprocess(logits, ["a.avi", "b.avi"], top_k=2, label_names={0: "zero", 1: "one"})
    assert [[e["class"] for e in r["top_k"]] for r in results] == [[1, 0], [0, 1]]  # 2 rows per file averaged
    assert [e["label"] for e in results[0]["top_k"]] == ["one", "zero"]
    assert postprocess(logits, ["a.avi"], top_k=1)[0]["top_k"][0]["label"] is None  # no class names: None
    assert format_result({"file": "data/example.avi",
                          "top_k": [{"class": 5, "score": float(np.float32(0.99907124)), "label": None}]}) \
        == "Current video file: data/example.avi\n\ttop-1 class: 5\n\ttop-1 score: 0.9990712404251099"
    assert format_result(results[0]).splitlines()[1:4] == ["\ttop-1 class: 1",
                                                           f"\ttop-1 score: {results[0]['top_k'][0]['score']}",
                                                           "\ttop-1 name: one"]
    bad = tmp_path / "labels.txt"
    bad.write_text("0 a\nb b\n")
    with pytest.raises(InferenceError, match=r"labels.txt line 2"):
        load_label_list(str(bad))


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_stdout_holds_only_result_lines_for_a_json_program(model, capfd):
    """Paddle's oneDNN passes print debug text on fd 1 for PIR programs; it must not mix with results."""
    argv = paddle_args(model)
    argv[argv.index(model["pdmodel"])] = model["json"]
    code = load_tool("tools/predict.py", "tool_predict_fd").main(argv)
    out = capfd.readouterr().out
    assert code == 0 and len(parse_results(out)) == 1  # every stdout line is a known line
