"""``from paddlevideo import Predictor``: three lines from an export folder to a result, the same numbers as
tools/predict.py, one-line errors, and an instance that stays usable after a bad video."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from test_predict import model, paddle_args, parse_results, predict  # noqa: F401  (module fixture)


@pytest.fixture(scope="module")
def predictor(model):  # noqa: F811
    from paddlevideo import Predictor
    return Predictor(os.path.dirname(model["pdmodel"]), use_gpu=False)


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_three_lines_give_the_cli_result(model, predictor, capsys):  # noqa: F811
    result = predictor.predict(model["video"])
    assert set(result) == {"file", "top_k"} and result["file"] == model["video"]
    (best,) = result["top_k"]
    assert set(best) == {"class", "score", "label"} and best["label"] is None
    code, out, _ = predict(capsys, paddle_args(model, "--use_gpu", "False"))
    assert code == 0 and parse_results(out) == [(model["video"], best["class"], best["score"])]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_list_per_call_top_k_and_info(model, predictor):  # noqa: F811
    results = predictor.predict([model["video"], model["video"]], top_k=3)
    assert isinstance(results, list) and len(results) == 2
    scores = [entry["score"] for entry in results[0]["top_k"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and results[0] == results[1]
    assert len(predictor.predict(model["video"])["top_k"]) == 1  # the per-call top_k did not stick
    info = predictor.info
    assert info["model_name"] == "TSN_demo" and info["num_classes"] == 4 and info["precision"] == "fp32"
    assert info["views_per_video"] == 30 and info["input_shape"] == [1, 30, 3, 64, 64]
    assert info["top_k"] == 1 and info["labels"] is False
    json.dumps(results)  # plain types only


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_bad_video_raises_one_line_and_the_instance_stays_usable(model, predictor, tmp_path):  # noqa: F811
    from paddlevideo.inference import VideoReadError
    from paddlevideo.utils.errors import UserError
    bad = tmp_path / "bad.avi"
    bad.write_bytes(os.urandom(2000))
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    for path in (bad, empty, tmp_path / "missing.avi"):
        with pytest.raises(VideoReadError) as err:
            predictor.predict(str(path))
        assert isinstance(err.value, UserError) and str(path) in str(err.value) and "\n" not in str(err.value)
    assert predictor.predict(model["video"])["top_k"][0]["class"] in range(4)
    with pytest.raises(UserError, match="top_k must be at least 1"):
        predictor.predict(model["video"], top_k=0)


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_bad_arguments_are_user_errors(model, tmp_path):  # noqa: F811
    from paddlevideo import Predictor
    from paddlevideo.utils.errors import UserError
    with pytest.raises(UserError, match="--view_chunk must be 0"):
        Predictor(model_file=model["pdmodel"], params_file=model["params"], view_chunk=-1)
    with pytest.raises(UserError, match="--precision must be one of"):
        Predictor(model_file=model["pdmodel"], params_file=model["params"], precision="fp64")
    with pytest.raises(UserError, match="model folder not found"):
        Predictor(str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="holds no exported model"):
        Predictor(str(tmp_path))


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_onnx_keywords_and_output_json_holds_the_same_dicts(model, predictor, tmp_path, capsys):  # noqa: F811
    from paddlevideo import Predictor
    onnx = Predictor(onnx_file=model["onnx"]).predict(model["video"])
    ref = predictor.predict(model["video"])
    assert onnx["top_k"][0]["class"] == ref["top_k"][0]["class"]
    assert abs(onnx["top_k"][0]["score"] - ref["top_k"][0]["score"]) < 1e-4
    out = tmp_path / "out.json"
    code, _, _ = predict(capsys, paddle_args(model, "--use_gpu", "False", "--output_json", str(out)))
    assert code == 0 and json.loads(out.read_text())["results"] == [ref]


def test_import_paddlevideo_stays_light():
    code = ("import sys, paddlevideo\n"
            "assert 'paddle' not in sys.modules and 'paddlevideo.inference' not in sys.modules\n"
            "from paddlevideo import Predictor\n"
            "assert Predictor.__name__ == 'Predictor' and 'paddle' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_predict_onnx_leaves_an_installed_paddle_unimported(model, tmp_path):  # noqa: F811
    """Paddle is installed here; predict_onnx.py must still not import it (numpy softmax, onnxruntime)."""
    code = ("import runpy, sys\n"
            f"sys.argv = ['predict_onnx.py', '-i', {model['video']!r}, '--onnx_file', {model['onnx']!r}]\n"
            "try:\n"
            "    runpy.run_path("
            f"{os.path.join(ROOT, 'deploy', 'paddle2onnx', 'predict_onnx.py')!r}, run_name='__main__')\n"
            "except SystemExit as stop:\n"
            "    assert stop.code == 0, stop.code\n"
            "assert 'paddle' not in sys.modules, 'paddle was imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Current video file: " in proc.stdout
