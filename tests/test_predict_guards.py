"""Hostile inputs to predict: the exported .yml through the safe YAML loader and bounds, flag bounds, outputs
over inputs, a short label list at start, and SIGTERM mid-run."""
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT
from test_predict import model, paddle_args, predict  # noqa: F401  (module fixture)

GOOD_YML = """model_name: TSN
input_shape: [null, 30, 3, 64, 64]
num_classes: 4
top_k: 1
preprocess:
- VideoDecoder: {}
- Sampler: {num_seg: 3, seg_len: 1, valid_mode: true, select_left: true}
- Scale: {short_size: 72, fixed_ratio: true, do_round: true, backend: cv2}
- TenCrop: {target_size: 64}
- Image2Array: {}
- Normalization: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
"""

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


@pytest.mark.parametrize("text,expected", [
    (GOOD_YML + "top_k: 2\n", r"key 'top_k' appears twice in one mapping, at lines 4 and 12"),
    (GOOD_YML + "label_list: &l [a, *l, c, d]\n", r"alias cycle"),
    (BOMB + GOOD_YML, r"aliases expand to more than"),
    (GOOD_YML.replace("target_size: 64", "target_size: 1000000"), r"preprocess.TenCrop.target_size: got 1000000, "
                                                                  r"expected an integer in \[1, 1024\]"),
    (GOOD_YML.replace("num_seg: 3", "num_seg: 1e8"), r"preprocess.Sampler.num_seg: got '1e8', expected an integer"),
    (GOOD_YML.replace("mean: [0.485, 0.456, 0.406]", "mean: [0.485]"), r"preprocess.Normalization.mean: got \[0.485\], "
                                                                      r"expected a list of 3 numbers"),
    (GOOD_YML + "label_list: [a, b]\n", r"label_list must name the 4 classes in order, got 2"),
])
def test_exported_yml_goes_through_the_safe_loader_and_bounds(tmp_path, text, expected):
    from paddlevideo.inference.model import InferenceError, read_model_yml
    path = tmp_path / "TSN.yml"
    path.write_text(text)
    with pytest.raises(InferenceError, match=expected) as err:
        read_model_yml(str(path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_exported_yml_non_utf8_names_the_line(tmp_path):
    from paddlevideo.utils.errors import UserError
    from paddlevideo.inference.model import read_model_yml
    path = tmp_path / "TSN.yml"
    path.write_bytes(GOOD_YML.encode() + b"label_list: [\xff, b, c, d]\n")
    with pytest.raises(UserError, match=r"TSN.yml:12: byte 0xff is not UTF-8"):
        read_model_yml(str(path))
    path.write_text(GOOD_YML)
    assert read_model_yml(str(path))["num_classes"] == 4  # the good one loads


def test_sizes_have_upper_bounds():
    from paddlevideo.inference.api import PredictOptions, max_cpu_threads
    from paddlevideo.inference.model import InferenceError, check_inference_section
    with pytest.raises(InferenceError, match=rf"--cpu_threads must be at most {max_cpu_threads()}, got 1000000"):
        PredictOptions.checked(model_file="m.pdmodel", params_file="m.pdiparams", cpu_threads=1000000)
    assert PredictOptions.checked(model_file="m.pdmodel", params_file="m.pdiparams", cpu_threads=1).cpu_threads == 1
    with pytest.raises(InferenceError, match=r"INFERENCE.target_size: got 1000000, expected an integer in \[1, 1024\]"):
        check_inference_section({"target_size": 1000000})


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_output_json_over_an_input_is_refused(model, tmp_path, capsys):  # noqa: F811
    import shutil
    video = tmp_path / "clip.mp4"
    shutil.copyfile(model["video"], video)
    before = video.read_bytes()
    argv = paddle_args(model, "--output_json", str(video))
    argv[argv.index(model["video"])] = str(video)
    code, out, err = predict(capsys, argv)
    assert code == 2 and "Current video file" not in out and video.read_bytes() == before
    assert err.strip().splitlines()[-1] == (f"predict.py: error: the output {video} is the same file as "
                                            f"-i/--input_file {video}: choose another output path (nothing was "
                                            "written)")
    code, _, err = predict(capsys, paddle_args(model, "--output_json", model["params"]))
    assert code == 2 and "is the same file as --params_file" in err


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_short_label_list_is_refused_at_start_naming_the_file(model, tmp_path, capsys):  # noqa: F811
    labels = tmp_path / "labels.txt"
    labels.write_text("0 a\n1 b\n")
    code, out, err = predict(capsys, paddle_args(model, "--label_list", str(labels)))
    assert code == 2 and out == ""  # before the model's first line, and before any video is read
    assert err.strip().splitlines() == [f"predict.py: error: label list {labels} lacks class 2, but the model has "
                                        "4 classes (expected '<index> <name>' for 0..3)"]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_sigterm_during_predict_is_one_line_and_exit_143(model, tmp_path):  # noqa: F811
    listing = tmp_path / "many.txt"
    listing.write_text(f"{model['video']}\n" * 40)
    argv = paddle_args(model)
    argv[argv.index(model["video"])] = str(listing)
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "predict.py"), *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in proc.stdout:  # wait for the first result: the model is loaded and running
            if line.startswith("Current video file"):
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, err[-2000:]
    line, = [text for text in err.strip().splitlines() if ": hint: " not in text]  # a CPU may get the bf16 hint
    assert line.startswith("predict.py: stopped by SIGTERM after ") and line.endswith(
        "of 40 videos (their results are above; --output_json was not written)")


def test_a_label_list_giving_an_index_twice_is_refused_by_predict_too(tmp_path):
    """The one label-list reader (predict, serving, export) refuses a repeated index, as build_file_list.py does."""
    from paddlevideo.inference.model import InferenceError, load_label_list
    labels = tmp_path / "labels.txt"
    labels.write_text("0 a\n1 b\n1 c\n")
    with pytest.raises(InferenceError, match=r"labels.txt line 3: class index 1 is given twice \(first on line 2\)"):
        load_label_list(str(labels))
    labels.write_text("0 a\n1 b\n")
    assert load_label_list(str(labels)) == {0: "a", 1: "b"}
