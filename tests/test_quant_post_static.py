"""deploy/slim/quant_post_static.py: int8 post-training quantization of an export, and its bad inputs.

A ResNet-18 TSN at 32x32 is exported once per module; calibration reads two generated clips through
a VideoDataset list and the valid-mode ops (2 segments, CenterCrop 32), abs_max (KL takes minutes).
"""
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import ROOT, load_tool, make_checkpoint, small_config, write_video

SCRIPT = os.path.join(ROOT, "deploy", "slim", "quant_post_static.py")
SIZE = 32


@pytest.fixture(scope="module")
def quant_tool():
    return load_tool("deploy/slim/quant_post_static.py", "quant_post_static_tool")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """``{"dir", "list", "tmp"}``: ``dir/small.pdmodel|.pdiparams|.yml`` (fp32) and a 2-clip calibration list."""
    from paddlevideo.inference.export import export_model
    tmp = tmp_path_factory.mktemp("quant")
    cfg = small_config()
    cfg.INFERENCE.update(num_seg=2, short_size=40, target_size=SIZE)
    make_checkpoint(tmp / "small.pdparams", seed=3)
    export_model(cfg, str(tmp / "small.pdparams"), str(tmp / "fp32"), "small")
    clips = [write_video(str(tmp / f"clip{i}.avi"), num_frames=12, size=(48, 40), seed=i) for i in range(2)]
    (tmp / "cal.list").write_text("".join(f"{clip} {i}\n" for i, clip in enumerate(clips)))
    return {"dir": str(tmp / "fp32"), "list": str(tmp / "cal.list"), "tmp": tmp}


def quant_config(export, out_dir, path, drop=(), **top):
    """A quantization config in PaddleVideo's layout, pointed at the module's export and clips."""
    cfg = {
        "DATASET": {"batch_size": 1, "batch_nums": 2, "num_workers": 0,
                    "quant": {"format": "VideoDataset", "file_path": export["list"]}},
        "PIPELINE": {"quant": {
            "decode": {"name": "VideoDecoder", "backend": "cv2"},
            "sample": {"name": "Sampler", "num_seg": 2, "seg_len": 1, "valid_mode": True},
            "transform": [{"Scale": {"short_size": 40}}, {"CenterCrop": {"target_size": SIZE}},
                          {"Image2Array": None},
                          {"Normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}]}},
        "inference_model_dir": export["dir"], "quant_output_dir": str(out_dir), "model_name": "small",
    }
    cfg.update(top)
    for dotted in drop:
        *parents, last = dotted.split(".")
        node = cfg
        for part in parents:
            node = node[part]
        del node[last]
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return str(path)


def run_tool(tool, capsys, *argv):
    capsys.readouterr()
    try:
        code = tool.main(list(argv))
    except SystemExit as exit_:  # argparse
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def logits(model_prefix, batch, int8):
    """Paddle Inference (oneDNN, int8 when asked) logits of ``batch``."""
    from paddle import inference
    config = inference.Config(model_prefix + ".pdmodel", model_prefix + ".pdiparams")
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(1)
    config.enable_mkldnn()
    config.disable_glog_info()
    if int8:
        config.enable_mkldnn_int8()
    predictor = inference.create_predictor(config)
    handle = predictor.get_input_handle(predictor.get_input_names()[0])
    handle.reshape(batch.shape)
    handle.copy_from_cpu(batch)
    predictor.run()
    return predictor.get_output_handle(predictor.get_output_names()[0]).copy_to_cpu()


@pytest.fixture(scope="module")
def quantized(export):
    """The CLI as a user runs it (own process: FLAGS_enable_pir_api=0 before Paddle starts)."""
    out_dir = export["tmp"] / "int8"
    config = quant_config(export, out_dir, export["tmp"] / "quant.yaml")
    proc = subprocess.run([sys.executable, SCRIPT, "-c", config, "--use_gpu=False", "--algo", "abs_max",
                           "--view_chunk", "3"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    return {"proc": proc, "dir": str(out_dir), "config": config}


def test_cli_writes_an_int8_model_with_its_yml(export, quantized):
    proc = quantized["proc"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    out_dir = quantized["dir"]
    assert sorted(f for f in os.listdir(out_dir) if not f.startswith(".")) == \
        ["small.pdiparams", "small.pdmodel", "small.yml"]
    with open(os.path.join(export["dir"], "small.yml"), encoding="utf-8") as f:
        source = f.read()
    with open(os.path.join(out_dir, "small.yml"), encoding="utf-8") as f:
        copy = f.read()
    assert copy == source + "quantized: int8\n"
    # 2 clips x 2 views (2 segments, one CenterCrop each) = 4 views; chunks of <= 3 views: one feed a clip
    assert "int8 model (small, abs_max on 4 views in 2 feeds" in proc.stdout
    assert f"wrote {os.path.join(out_dir, 'small.yml')}" in proc.stdout


def test_quantized_program_holds_quantize_ops_and_agrees_with_fp32(export, quantized):
    assert quantized["proc"].returncode == 0, quantized["proc"].stderr[-2000:]
    with open(os.path.join(quantized["dir"], "small.pdmodel"), "rb") as f:
        program = f.read()
    assert b"quantize" in program  # fake (de)quantize ops carry the scales oneDNN int8 reads
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((1, 4, 3, SIZE, SIZE)).astype("float32")
    fp32 = logits(os.path.join(export["dir"], "small"), batch, int8=False)
    int8 = logits(os.path.join(quantized["dir"], "small"), batch, int8=True)
    cosine = float((fp32 * int8).sum() / np.linalg.norm(fp32) / np.linalg.norm(int8))
    assert cosine > 0.95, (fp32, int8)


def test_quantizing_a_quantized_model_is_refused(export, quantized, quant_tool, capsys, tmp_path):
    assert quantized["proc"].returncode == 0
    config = quant_config(export, tmp_path / "again", tmp_path / "q.yaml", inference_model_dir=quantized["dir"])
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False")
    assert code == 2
    assert err.strip().splitlines() == [
        f"quant_post_static.py: error: {os.path.join(quantized['dir'], 'small.pdmodel')} is already quantized "
        f"({os.path.join(quantized['dir'], 'small.yml')} says quantized: int8): quantize the fp32 export instead"]


def test_in_process_run_chunks_views_and_restores_dygraph(export, tmp_path):
    import paddle
    from paddlevideo.slim import quant_settings, quantize
    from paddlevideo.utils.config import get_config
    config = quant_config(export, tmp_path / "out", tmp_path / "q.yaml")
    settings = quant_settings(get_config(config, show=False), config)
    result = quantize(settings, algo="avg", view_chunk=1, use_gpu=False)
    assert (result.views, result.feeds) == (4, 4)
    assert paddle.in_dynamic_mode()
    assert [os.path.basename(p) for p in result.files] == ["small.pdiparams", "small.pdmodel", "small.yml"]


def test_calibration_clips_are_spread_over_the_list():
    from paddlevideo.slim.calibration import spread_indices
    assert spread_indices(100, 4) == [0, 33, 66, 99]
    assert spread_indices(3, 10) == [0, 1, 2]
    assert spread_indices(5, 1) == [0]


# ---------------------------------------------------------------- bad inputs: one line, exit 2, nothing written
BAD_CONFIGS = [
    (dict(drop=["DATASET.batch_nums"]), "missing key 'DATASET.batch_nums': quantization needs it"),
    (dict(drop=["PIPELINE.quant"]), "missing key 'PIPELINE.quant': quantization needs it"),
    (dict(drop=["DATASET.quant.file_path"]), "missing key 'DATASET.quant.file_path'"),
    (dict(DATASET={"batch_num": 2}), "unknown key 'DATASET.batch_num' in a quantization config; "
                                     "did you mean 'DATASET.batch_nums'?"),
    (dict(epochs=3), "unknown key 'epochs' in a quantization config; known keys: DATASET"),
]


@pytest.mark.parametrize("change, message", BAD_CONFIGS, ids=lambda v: str(v)[:40])
def test_bad_config_is_one_line(export, quant_tool, capsys, tmp_path, change, message):
    change = dict(change)
    if "DATASET" in change:  # replace one key of the section, keep the others
        base = yaml.safe_load(open(quant_config(export, tmp_path / "o", tmp_path / "base.yaml")))["DATASET"]
        base.pop("batch_nums")
        change["DATASET"] = dict(base, **change["DATASET"])
    config = quant_config(export, tmp_path / "out", tmp_path / "q.yaml", **change)
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert message in err
    assert not (tmp_path / "out").exists()


def test_batch_nums_must_be_positive(export, quant_tool, capsys, tmp_path):
    config = quant_config(export, tmp_path / "out", tmp_path / "q.yaml")
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "-o", "DATASET.batch_nums=0", "--use_gpu=False")
    assert code == 2
    assert err.strip() == f"quant_post_static.py: error: {config}: DATASET.batch_nums: got 0, expected an integer >= 1"


def test_model_folder_without_the_model(export, quant_tool, capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "other.pdmodel").write_bytes(b"")
    config = quant_config(export, tmp_path / "out", tmp_path / "q.yaml", inference_model_dir=str(empty))
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False")
    assert code == 2
    assert err.strip() == (f"quant_post_static.py: error: inference_model_dir {str(empty)!r} holds no "
                           "small.pdmodel; it holds other.pdmodel: set model_name")
    config = quant_config(export, tmp_path / "out", tmp_path / "q.yaml", inference_model_dir=str(tmp_path / "nope"))
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False")
    assert code == 2 and "is not a folder: export the model first" in err and len(err.strip().splitlines()) == 1


def test_model_without_its_yml(export, quant_tool, capsys, tmp_path):
    folder = tmp_path / "no_yml"
    folder.mkdir()
    for suffix in (".pdmodel", ".pdiparams"):
        os.symlink(os.path.join(export["dir"], "small" + suffix), folder / ("small" + suffix))
    config = quant_config(export, tmp_path / "out", tmp_path / "q.yaml", inference_model_dir=str(folder))
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"no {folder / 'small.yml'} beside {folder / 'small.pdmodel'}" in err


def test_output_over_the_source_is_refused(export, quant_tool, capsys, tmp_path):
    config = quant_config(export, export["dir"], tmp_path / "q.yaml")
    before = os.path.getmtime(os.path.join(export["dir"], "small.pdmodel"))
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "is the same file as the source model" in err
    assert os.path.getmtime(os.path.join(export["dir"], "small.pdmodel")) == before


def test_crop_size_other_than_the_model_is_named(export, quant_tool, capsys, tmp_path):
    config = quant_config(export, tmp_path / "out", tmp_path / "q.yaml")
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False",
                            "-o", "PIPELINE.quant.transform.1.CenterCrop.target_size=24")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "PIPELINE.quant makes 3x24x24 views, but" in err and "takes 3x32x32" in err
    assert not (tmp_path / "out").exists()


def test_output_folder_that_is_a_file(export, quant_tool, capsys, tmp_path):
    (tmp_path / "taken").write_text("")
    config = quant_config(export, tmp_path / "taken" / "int8", tmp_path / "q.yaml")
    code, _, err = run_tool(quant_tool, capsys, "-c", config, "--use_gpu=False")
    assert code == 2
    assert err.strip() == (f"quant_post_static.py: error: quant_output_dir {str(tmp_path / 'taken' / 'int8')!r}: "
                           f"{tmp_path / 'taken'} is a file; expected a folder (existing or new)")


@pytest.mark.parametrize("argv, message", [
    (["--use_gpu=maybe"], "argument --use_gpu: expected True or False, got 'maybe'"),
    (["--view_chunk", "0"], "argument --view_chunk: expected an integer >= 1, got '0'"),
    (["--algo", "kl"], "argument --algo: invalid choice: 'kl'"),
])
def test_bad_flags(quant_tool, capsys, argv, message):
    code, _, err = run_tool(quant_tool, capsys, "-c", "whatever.yaml", *argv)
    assert code == 2 and message in err


def test_missing_config_file(quant_tool, capsys, tmp_path):
    code, _, err = run_tool(quant_tool, capsys, "-c", str(tmp_path / "none.yaml"), "--use_gpu=False")
    assert code == 2 and err.strip() == f"quant_post_static.py: error: config file not found: {tmp_path / 'none.yaml'}"


@pytest.mark.parametrize("name", ["tsn_k400_frames_quantization.yaml", "tsn_k400_videos_quantization.yaml"])
def test_shipped_configs_hold_paddlevideo_keys(name):
    from paddlevideo.loader import build_pipeline
    from paddlevideo.slim import quant_settings
    from paddlevideo.utils.config import get_config
    path = os.path.join(ROOT, "configs", "recognition", "tsn", name)
    settings = quant_settings(get_config(path, show=False), path)
    assert (settings.model_name, settings.inference_model_dir, settings.quant_output_dir) == \
        ("TSN", "inference/TSN", "inference/TSN/quant_model")
    assert (settings.batch_size, settings.batch_nums, settings.num_workers) == (1, 10, 0)
    assert settings.dataset["format"] == ("FrameDataset" if "frames" in name else "VideoDataset")
    assert settings.pipeline["sample"]["valid_mode"] is True
    build_pipeline(settings.pipeline)  # every op and argument exists
