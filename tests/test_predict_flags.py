"""predict.py checks its flags and its output path before the long work, and keeps printed results when
the JSON file cannot be written at the end."""
import errno

import pytest

from test_predict import model, paddle_args, parse_results, predict  # noqa: F401  (module fixture)


def _refused(capsys, argv, needle):
    code, out, err = predict(capsys, argv)
    assert code == 2 and "Current video file" not in out, out
    lines = err.strip().splitlines()
    assert needle in lines[-1] and "Traceback" not in err, err


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_bad_flag_values_are_refused(model, capsys):
    _refused(capsys, paddle_args(model, "--top_k", "-3"), "--top_k must be at least 1, got -3")
    _refused(capsys, paddle_args(model, "--cpu_threads", "-1"), "--cpu_threads must be at least 1, got -1")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_output_json_is_checked_before_predicting(model, tmp_path, capsys):
    _refused(capsys, paddle_args(model, "--output_json", str(tmp_path)), "is a folder; expected a file name")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    _refused(capsys, paddle_args(model, "--output_json", str(a_file / "out.json")), "is a file, not a folder")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_results_stand_when_the_json_cannot_be_written(model, tmp_path, capsys, monkeypatch):
    from paddlevideo.inference import api

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(api, "write_json", full_disk)
    code, out, err = predict(capsys, paddle_args(model, "--output_json", str(tmp_path / "r.json")))
    assert code == 2 and len(parse_results(out)) == 1
    assert err.strip().splitlines()[-1].endswith("r.json was not written: No space left on device")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_label_list_missing_a_class_is_refused(model, tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("0 a\n1 b\n2 c\n")  # the model has 4 classes
    _refused(capsys, paddle_args(model, "--label_list", str(labels)), "lacks class 3, but the model has 4 classes")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_paddlevideo_device_flags_are_accepted(model, tmp_path, capsys):
    """PaddleVideo's --use_xpu/--use_npu/--time_test_file parse; XPU/NPU on a build without them: one line."""
    import paddle
    code, out, _ = predict(capsys, paddle_args(model, "--use_xpu", "False", "--use_npu", "False",
                                               "--time_test_file", "False"))
    assert code == 0 and len(parse_results(out)) == 1
    if not paddle.is_compiled_with_xpu():
        _refused(capsys, paddle_args(model, "--use_xpu", "True"), "--use_xpu True needs a Paddle built for Kunlun XPU")
    if not paddle.device.is_compiled_with_custom_device("npu"):
        _refused(capsys, paddle_args(model, "--use_npu"), "--use_npu True needs a Paddle with the Ascend NPU plug-in")
    videos = tmp_path / "videos.dat"  # PaddleVideo's benchmark list: one path per line, any file name
    videos.write_text(f"{model['video']}\n{model['video']}\n")
    argv = paddle_args(model, "--time_test_file", "True")
    argv[argv.index(model["video"])] = str(videos)
    code, out, _ = predict(capsys, argv)
    assert code == 0 and [r[0] for r in parse_results(out)] == [model["video"]] * 2
