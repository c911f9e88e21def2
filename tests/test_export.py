"""tools/export_model.py: files written, formats (.pdmodel, .json, .onnx), fidelity, clear errors."""
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import DEMO_CFG, REAL_CLIP, ROOT, SMALL, load_tool, make_checkpoint, small_config

def sample_video(tmp_dir):
    """A real H.264 clip committed with the tests (``tmp_dir`` is kept for callers)."""
    return REAL_CLIP

pytestmark = pytest.mark.slow  # every test here traces, exports or runs an exported model


def without_network_prefix():
    """``["unshare", "-n"]`` (a network namespace with no network) when this machine permits it, else the reason."""
    try:
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return None, f"unshare cannot run here: {err}"
    if probe.returncode != 0:
        return None, f"unshare -n is not permitted here: {probe.stderr.strip() or probe.returncode}"
    return ["unshare", "-n"], None


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One CLI export (pdmodel + json + onnx) of a small model, shared by this module's tests; run with no
    network where a network namespace is permitted, and with a decoy ``polygraphy`` package first on the
    path, which records any import (paddle2onnx's default optimizer would import it and run pip)."""
    pytest.importorskip("paddle2onnx")
    tmp = tmp_path_factory.mktemp("export")
    weights = tmp / "small.pdparams"
    model = make_checkpoint(weights)
    out = tmp / "inference"
    decoy = tmp / "decoy" / "polygraphy"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text(f"open({str(tmp / 'polygraphy_imported')!r}, 'w').close()\n")
    prefix, no_namespace = without_network_prefix()
    cmd = (prefix or []) + [sys.executable, os.path.join(ROOT, "tools", "export_model.py"), "-c", DEMO_CFG,
                            "-p", str(weights), "-o", str(out), "--save_name", "small", "--format", "json",
                            "--onnx", "--override", *SMALL]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(decoy.parent), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {"dir": out, "model": model, "stdout": proc.stdout, "stderr": proc.stderr, "tmp": tmp,
            "no_namespace": no_namespace}


def test_onnx_export_needs_no_network_and_runs_no_optimizer_that_installs(exported):
    """paddle2onnx's default optimizer (Polygraphy) pip-installs packages at run time; the export never
    imports it, and converts inside a network namespace with no network."""
    assert not (exported["tmp"] / "polygraphy_imported").exists()
    assert (exported["dir"] / "small.onnx").stat().st_size > 1000
    if exported["no_namespace"]:
        pytest.skip(f"ran with the network: {exported['no_namespace']}")


def test_export_prints_no_native_log_lines(exported):
    """No glog line ("I1129 18:10:51.590690 ... New Executor is Running.") and none of paddle2onnx's chatter."""
    import re
    output = exported["stdout"] + exported["stderr"]
    assert not re.search(r"^[IWEF]\d{4} \d\d:\d\d:\d\d", output, re.MULTILINE), output
    assert "Paddle2ONNX" not in output and "P2O_KEEP_TEMP_MODEL" not in output, output


def test_export_writes_classic_json_and_onnx_files(exported):
    out = exported["dir"]
    for name in ("small.pdmodel", "small.pdiparams", "small.json", "small.onnx", "small.yml"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not (out / "small.json.pdiparams").exists()  # the PIR program shares the classic weights file
    stdout = exported["stdout"]
    assert "InputSpec(shape=[None, None, 3, 64, 64], dtype='float32')" in stdout  # any videos, any views
    assert f"wrote {out / 'small.pdmodel'}" in stdout and f"wrote {out / 'small.yml'}" in stdout


def test_exported_program_declares_a_free_view_dimension(exported):
    from paddlevideo.inference.predictors import check_model_files
    out = exported["dir"]
    assert check_model_files(str(out / "small.pdmodel"), str(out / "small.pdiparams"))[0][1] == [-1, -1, 3, 64, 64]
    assert check_model_files(str(out / "small.json"), str(out / "small.pdiparams"))[0][1] == [-1, -1, 3, 64, 64]


def test_paddle_inference_and_onnx_equal_dygraph(exported):
    """Fidelity: Paddle Inference (.pdmodel with oneDNN, .json) and onnxruntime vs ``infer_step``."""
    from paddlevideo.inference.predictors import DygraphPredictor, OnnxPredictor, PaddlePredictor
    from paddlevideo.inference.preprocess import build_preprocessor
    out = exported["dir"]
    pre = build_preprocessor(small_config().INFERENCE)
    video = pre(sample_video(exported["tmp"]))
    batch = np.concatenate([video, video[:, ::-1].copy()])  # two different inputs, N=2
    ref = DygraphPredictor(exported["model"]).run(batch)
    assert ref.shape == (2, 4) and np.abs(ref).max() > 1e-3
    runs = {
        "pdmodel+oneDNN": PaddlePredictor(str(out / "small.pdmodel"), str(out / "small.pdiparams"),
                                          enable_mkldnn=True, disable_glog=True),
        "pdmodel native": PaddlePredictor(str(out / "small.pdmodel"), str(out / "small.pdiparams"),
                                          enable_mkldnn=False, disable_glog=True),
        "json": PaddlePredictor(str(out / "small.json"), str(out / "small.pdiparams"), disable_glog=True),
        "onnx": OnnxPredictor(str(out / "small.onnx")),
    }
    for name, predictor in runs.items():
        got = predictor.run(batch)
        rel = np.abs(got - ref).max() / np.abs(ref).max()
        assert rel <= 1e-4, f"{name}: relative error {rel:.2e}"


def test_export_with_other_num_classes_uses_the_checkpoint_head(tmp_path):
    from paddlevideo.inference.export import export_model
    from paddlevideo.inference.predictors import PaddlePredictor
    make_checkpoint(tmp_path / "seven.pdparams", num_classes=7)
    result = export_model(small_config(num_classes=4), str(tmp_path / "seven.pdparams"), str(tmp_path / "out"))
    assert result["name"] == "TSN_demo" and result["input_shape"] == [None, None, 3, 64, 64]
    predictor = PaddlePredictor(str(tmp_path / "out" / "TSN_demo.pdmodel"),
                                str(tmp_path / "out" / "TSN_demo.pdiparams"), disable_glog=True)
    assert predictor.run(np.zeros([1, 30, 3, 64, 64], np.float32)).shape == (1, 7)


def _export_cli(capsys, *argv):
    tool = load_tool("tools/export_model.py", "export_model_tool")
    code = tool.main(list(argv))
    return code, capsys.readouterr()


def test_missing_weights_is_one_clear_line(tmp_path, capsys):
    code, cap = _export_cli(capsys, "-c", DEMO_CFG, "-p", str(tmp_path / "nope.pdparams"), "-o", str(tmp_path))
    assert code == 2
    assert cap.err.strip() == f"export_model.py: error: checkpoint not found: {tmp_path / 'nope.pdparams'}"


def test_corrupt_weights_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.pdparams"
    bad.write_bytes(random.Random(3).randbytes(2000))  # fixed bytes: tests/test_save_load.py tries 600 kinds
    code, cap = _export_cli(capsys, "-c", DEMO_CFG, "-p", str(bad), "-o", str(tmp_path / "o"))
    assert code == 2 and len(cap.err.strip().splitlines()) == 1
    assert "corrupt or not a Paddle checkpoint" in cap.err and str(bad) in cap.err


def test_mismatched_weights_name_the_tensor(tmp_path, capsys):
    import paddle
    state = {"backbone.conv._conv.weight": paddle.zeros([64, 3, 5, 5]), "head.fc.weight": paddle.zeros([512, 4])}
    paddle.save(state, str(tmp_path / "odd.pdparams"))
    code, cap = _export_cli(capsys, "-c", DEMO_CFG, "-p", str(tmp_path / "odd.pdparams"), "-o", str(tmp_path / "o"))
    assert code == 2 and len(cap.err.strip().splitlines()) == 1
    assert "backbone.conv._conv.weight" in cap.err and "[64, 3, 5, 5]" in cap.err


def test_bad_override_and_missing_inference_keys(tmp_path, capsys):
    code, cap = _export_cli(capsys, "-c", DEMO_CFG, "-p", "x.pdparams", "-o", str(tmp_path),
                            "--override", "NOPE.num_seg=3")
    assert code == 2 and "NOPE" in cap.err
    from paddlevideo.inference import InferenceError
    from paddlevideo.inference.export import inference_preprocessor, traced_shape
    with pytest.raises(InferenceError, match="num_seg and target_size"):
        inference_preprocessor({"INFERENCE": {"name": "ppTSN_Inference_helper"}})
    shape = traced_shape(inference_preprocessor({"INFERENCE": {"num_seg": 25, "target_size": 224}}).input_shape)
    assert shape == [None, None, 3, 224, 224]


def test_onnx_without_paddle2onnx_gives_pip_command(tmp_path, monkeypatch):
    from paddlevideo.inference import MissingDependencyError
    from paddlevideo.inference.export import export_model
    monkeypatch.setitem(sys.modules, "paddle2onnx", None)  # import now fails
    with pytest.raises(MissingDependencyError, match="pip install paddle2onnx"):
        export_model(small_config(), str(tmp_path / "unused.pdparams"), str(tmp_path), onnx=True)


def test_channels_last_backbone_exports_a_runnable_nchw_graph(exported, tmp_path):
    """MODEL.backbone.data_format=NHWC: the NHWC graph breaks Paddle Inference and paddle2onnx, so
    export builds the same weights channels-first; the result equals the dygraph model's."""
    from paddlevideo.inference.export import export_model
    from paddlevideo.inference.predictors import DygraphPredictor, PaddlePredictor
    cfg = small_config()
    cfg.MODEL.backbone["data_format"] = "NHWC"
    export_model(cfg, str(exported["tmp"] / "small.pdparams"), str(tmp_path), "nhwc")
    batch = np.random.default_rng(0).standard_normal([1, 30, 3, 64, 64]).astype(np.float32)
    got = PaddlePredictor(str(tmp_path / "nhwc.pdmodel"), str(tmp_path / "nhwc.pdiparams"), disable_glog=True).run(batch)
    ref = DygraphPredictor(exported["model"]).run(batch)
    assert np.abs(got - ref).max() / np.abs(ref).max() <= 1e-4
