"""<name>.yml written by export: its content, its checks, and the preprocessing built from it."""
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import DEMO_CFG, ROOT, SMALL, load_tool, make_checkpoint

EXPECTED_OPS = [
    {"VideoDecoder": {}},
    {"Sampler": {"num_seg": 3, "seg_len": 1, "valid_mode": True, "select_left": True}},
    {"Scale": {"short_size": 72, "fixed_ratio": True, "do_round": True, "backend": "cv2"}},
    {"TenCrop": {"target_size": 64}},
    {"Image2Array": {}},
    {"Normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}},
]
# Imports Paddle's absence must not break: a fake 'paddle' package whose import fails comes first.
FAKE_PADDLE = "raise ImportError('paddle is blocked in this test')\n"

pytestmark = pytest.mark.slow  # every test here traces, exports or runs an exported model


def block_paddle_env(folder):
    """Environment for a child Python in which ``import paddle`` raises ImportError."""
    fake = folder / "no_paddle" / "paddle"
    fake.mkdir(parents=True, exist_ok=True)
    (fake / "__init__.py").write_text(FAKE_PADDLE)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), ROOT])
    return env


def export_cli(capsys, tmp, *extra):
    weights = tmp / "w.pdparams"
    if not weights.exists():
        make_checkpoint(weights)
    capsys.readouterr()
    code = load_tool("tools/export_model.py", "export_tool_yml").main(
        ["-c", DEMO_CFG, "-p", str(weights), "-o", str(tmp / "out"), "--save_name", "small",
         "--override", *SMALL, *extra])
    return code, capsys.readouterr()


def test_yml_describes_the_exported_model(tmp_path, capsys):
    from paddlevideo.inference.predictors import check_model_files
    from paddlevideo.inference.preprocess import TSNPreprocessor
    (tmp_path / "labels.txt").write_text("0 archery\n1 bowling\n2 juggling balls\n3 yoga\n")
    code, cap = export_cli(capsys, tmp_path, "--label_list", str(tmp_path / "labels.txt"))
    assert code == 0, cap.err
    path = tmp_path / "out" / "small.yml"
    assert f"wrote {path}" in cap.out
    info = yaml.safe_load(path.read_text())
    assert info == {"model_name": "TSN_demo", "input_shape": [None, 30, 3, 64, 64], "num_classes": 4, "top_k": 1,
                    "preprocess": EXPECTED_OPS, "label_list": ["archery", "bowling", "juggling balls", "yoga"]}
    declared = check_model_files(str(tmp_path / "out" / "small.pdmodel"), str(tmp_path / "out" / "small.pdiparams"))
    assert declared[0][1] == [-1, -1, 3, 64, 64]  # the program takes any view count; the .yml records one video's
    assert TSNPreprocessor(info["preprocess"]).input_shape[2:] == declared[0][1][2:]


def test_label_list_must_name_every_class(tmp_path, capsys):
    (tmp_path / "three.txt").write_text("0 a\n1 b\n2 c\n")
    code, cap = export_cli(capsys, tmp_path, "--label_list", str(tmp_path / "three.txt"))
    assert code == 2 and "Traceback" not in cap.err
    assert f"label list {tmp_path / 'three.txt'} lacks class 3, but the model has 4 classes" in cap.err
    assert not (tmp_path / "out" / "small.yml").exists()


def test_views_per_frame_come_from_the_crop_op():
    from paddlevideo.inference.preprocess import TSNPreprocessor
    for crop, views in (("TenCrop", 10), ("ThreeCrop", 3), ("CenterCrop", 1)):
        ops = [dict(op) for op in EXPECTED_OPS]
        ops[3] = {crop: {"target_size": 48}}
        assert TSNPreprocessor(ops).input_shape == [1, 3 * views, 3, 48, 48], crop


def test_yml_problems_are_one_clear_error(tmp_path):
    from paddlevideo.inference import InferenceError
    from paddlevideo.inference import read_model_yml
    good = {"model_name": "m", "input_shape": [None, 30, 3, 64, 64], "num_classes": 4, "top_k": 1,
            "preprocess": EXPECTED_OPS}
    path = tmp_path / "m.yml"
    for change, message in (({"num_seg": 3}, "unknown key 'num_seg'"), ({"top_k": 0}, r"top_k must be an integer in \[1, "),
                            ({"label_list": ["a"]}, "label_list must name the 4 classes"),
                            ({"preprocess": [["Scale"]]}, "one-key mapping")):
        path.write_text(yaml.safe_dump({**good, **change}))
        with pytest.raises(InferenceError, match=message):
            read_model_yml(str(path))
    path.write_text("model_name: [unclosed")
    with pytest.raises(InferenceError, match="is not valid YAML"):
        read_model_yml(str(path))


def test_pipeline_and_preprocessing_import_without_paddle(tmp_path, real_clip):
    code = ("import sys\n"
            "import paddlevideo.loader.pipelines, paddlevideo.inference, paddlevideo.inference.preprocess\n"
            "from paddlevideo.loader.pipelines import Compose, TenCrop\n"
            "from paddlevideo.inference.preprocess import build_preprocessor\n"
            f"x = build_preprocessor({{'num_seg': 2, 'short_size': 40, 'target_size': 32}})({real_clip!r})\n"
            "assert 'paddle' not in sys.modules, 'paddle was imported'\n"
            "print(list(x.shape))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(tmp_path),
                          env=block_paddle_env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[1, 20, 3, 32, 32]"
    blocked = subprocess.run([sys.executable, "-c", "import paddle"], capture_output=True, text=True,
                             env=block_paddle_env(tmp_path), timeout=60)
    assert blocked.returncode != 0 and "blocked" in blocked.stderr


def test_loader_names_still_import_from_the_package():
    import paddlevideo.loader as loader
    from paddlevideo.loader import DATASETS, build_dataloader, build_dataset, build_pipeline  # noqa: F401
    assert "FrameDataset" in DATASETS and "VideoDataset" in DATASETS
    assert callable(build_dataloader) and loader.Compose is loader.pipelines.Compose
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        loader.nope  # noqa: B018
    assert np.array_equal(build_pipeline([{"Image2Array": None}])({"imgs": np.zeros((1, 4, 4, 3), np.uint8)})["imgs"],
                          np.zeros((1, 3, 4, 4), np.float32))
