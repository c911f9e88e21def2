"""--precision bf16 (CPU oneDNN): feature detection, the clean refusal, the predictor config, the fp32 hint."""
import numpy as np
import pytest

from test_predict import model, paddle_args, parse_results, predict  # noqa: F401  (module fixture)

FLAGS_AMX = "fpu sse avx512f avx512_bf16 amx_bf16 amx_tile"
FLAGS_ZEN3 = "fpu sse avx2 fma"
FLAGS_NO_AMX = "fpu sse avx2 avx512f avx512_bf16 avx512_vnni"  # Zen 4, or a Xeon whose AMX the hypervisor hides


def fake_cpuinfo(tmp_path, flags, name="cpuinfo", vendor="GenuineIntel"):
    path = tmp_path / name
    path.write_text(f"processor\t: 0\nvendor_id\t: {vendor}\nmodel name\t: test cpu\nflags\t\t: {flags}\n\n"
                    "processor\t: 1\n")
    return str(path)


@pytest.mark.parametrize("flags, vendor, faster", [
    (FLAGS_AMX, "GenuineIntel", True),       # Sapphire Rapids class: about 4x
    (FLAGS_NO_AMX, "GenuineIntel", False),   # a Xeon whose AMX is hidden: slower than fp32
    (FLAGS_NO_AMX, "AuthenticAMD", True),    # Zen 4: 1.6-2x
    (FLAGS_ZEN3, "AuthenticAMD", None),      # no bf16 at all
])
def test_bf16_advice_follows_what_was_measured_on_the_cpu_class(tmp_path, flags, vendor, faster):
    from paddlevideo.inference.predictors import bf16_hint, bf16_measured, bf16_slow_notice
    cpuinfo = fake_cpuinfo(tmp_path, flags, f"{vendor}{len(flags)}", vendor)
    measured = bf16_measured(cpuinfo)
    assert (measured and measured[0]) == faster if faster is not None else measured is None
    hint, notice = bf16_hint("predict.py", cpuinfo), bf16_slow_notice("predict.py", cpuinfo)
    assert (hint is not None) == bool(faster) and (notice is not None) == (faster is False)
    if hint:
        assert hint.startswith("predict.py: hint: on this CPU --precision bf16 runs ") and "\n" not in hint
    if notice:
        assert notice.startswith("predict.py: note: on this CPU --precision bf16 is likely slower than fp32")


@pytest.fixture
def cpu_without_bf16(tmp_path, monkeypatch):
    from paddlevideo.inference import predictors
    monkeypatch.setattr(predictors, "CPUINFO", fake_cpuinfo(tmp_path, FLAGS_ZEN3, "zen3"))


@pytest.fixture
def cpu_with_bf16(tmp_path, monkeypatch):
    from paddlevideo.inference import predictors
    monkeypatch.setattr(predictors, "CPUINFO", fake_cpuinfo(tmp_path, FLAGS_AMX, "spr"))


def test_flags_are_read_from_cpuinfo(tmp_path):
    from paddlevideo.inference.predictors import bf16_flags, read_cpu_flags
    assert bf16_flags(fake_cpuinfo(tmp_path, FLAGS_AMX, "a")) == ("avx512_bf16", "amx_bf16")
    assert bf16_flags(fake_cpuinfo(tmp_path, "avx512f avx512_bf16", "b")) == ("avx512_bf16",)
    assert bf16_flags(fake_cpuinfo(tmp_path, FLAGS_ZEN3, "c")) == ()
    assert read_cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_refusals_name_the_reason(tmp_path):
    from paddlevideo.inference.predictors import check_cpu_bf16
    from paddlevideo.inference.predictors import UnsupportedDeviceError
    from paddlevideo.utils.errors import UserError
    zen3, amx = fake_cpuinfo(tmp_path, FLAGS_ZEN3, "z"), fake_cpuinfo(tmp_path, FLAGS_AMX, "s")
    with pytest.raises(UnsupportedDeviceError, match="AVX512-BF16 or AMX-BF16.*use --precision fp32") as err:
        check_cpu_bf16(True, True, zen3)
    assert isinstance(err.value, UserError)  # run_cli prints one line and exits 2
    with pytest.raises(UnsupportedDeviceError, match="--enable_mkldnn False"):
        check_cpu_bf16(False, True, amx)
    with pytest.raises(UnsupportedDeviceError, match="--ir_optim False"):
        check_cpu_bf16(True, False, amx)
    assert check_cpu_bf16(True, True, amx) == ("avx512_bf16", "amx_bf16")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_cli_refuses_bf16_without_cpu_support(model, capsys, cpu_without_bf16):  # noqa: F811
    code, out, err = predict(capsys, paddle_args(model, "--use_gpu", "False", "--precision", "bf16"))
    assert code == 2 and "Current video file" not in out and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("predict.py: error: --precision bf16 needs a CPU with AVX512-BF16")


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_bf16_is_refused_for_onnx_and_tensorrt(model, capsys, cpu_with_bf16):  # noqa: F811
    from paddlevideo.inference.predictors import tensorrt_precision
    from paddlevideo.inference.predictors import UnsupportedDeviceError
    from conftest import DEMO_CFG, SMALL
    argv = ["-c", DEMO_CFG, "-o", *SMALL, "-i", model["video"], "--onnx_file", model["onnx"], "--precision", "bf16"]
    code, _, err = predict(capsys, argv)
    assert code == 2 and err.strip().endswith("--precision bf16 applies to Paddle Inference (--model_file), "
                                              "not to --onnx_file")
    with pytest.raises(UnsupportedDeviceError, match="CPU"):
        tensorrt_precision("bf16")


class RecordingConfig:
    """Stands in for ``paddle.inference.Config``: records the setters called."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name,) + args)


@pytest.mark.parametrize("precision,mkldnn,expected", [
    ("bf16", True, ["disable_gpu", "set_cpu_math_library_num_threads", "set_mkldnn_cache_capacity",
                    "enable_mkldnn", "enable_mkldnn_bfloat16"]),
    ("fp32", True, ["disable_gpu", "set_cpu_math_library_num_threads", "set_mkldnn_cache_capacity", "enable_mkldnn"]),
    ("fp32", False, ["disable_gpu", "set_cpu_math_library_num_threads", "disable_mkldnn"]),
    ("int8", True, ["disable_gpu", "set_cpu_math_library_num_threads", "set_mkldnn_cache_capacity",
                    "enable_mkldnn", "enable_mkldnn_int8"]),
])
def test_cpu_predictor_config(precision, mkldnn, expected):
    from paddlevideo.inference.predictors import configure_cpu
    config = configure_cpu(RecordingConfig(), 2, mkldnn, precision)
    assert [call[0] for call in config.calls] == expected
    assert ("set_cpu_math_library_num_threads", 2) in config.calls


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_fp32_hint_only_where_bf16_runs(model, capsys, tmp_path, monkeypatch):  # noqa: F811
    from paddlevideo.inference import predictors
    monkeypatch.setattr(predictors, "CPUINFO", fake_cpuinfo(tmp_path, FLAGS_AMX, "spr"))
    code, out, err = predict(capsys, paddle_args(model, "--use_gpu", "False"))
    hints = [line for line in err.splitlines() if "hint:" in line]
    assert code == 0 and len(parse_results(out)) == 1 and "hint" not in out  # stdout stays PaddleVideo's
    assert len(hints) == 1 and hints[0].startswith("predict.py: hint: on this CPU --precision bf16 runs about 4x")
    for flags in (FLAGS_ZEN3, FLAGS_NO_AMX):  # no bf16, or an Intel CPU without AMX: no advice to use bf16
        monkeypatch.setattr(predictors, "CPUINFO", fake_cpuinfo(tmp_path, flags, f"cpu{len(flags)}"))
        code, out, err = predict(capsys, paddle_args(model, "--use_gpu", "False"))
        assert code == 0 and "hint" not in err and "bf16" not in err


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_bf16_without_amx_runs_with_one_line(model, capsys, tmp_path, monkeypatch):  # noqa: F811
    from paddlevideo.inference import predictors
    monkeypatch.setattr(predictors, "CPUINFO", fake_cpuinfo(tmp_path, FLAGS_NO_AMX, "xeon207"))
    code, out, err = predict(capsys, paddle_args(model, "--use_gpu", "False", "--precision", "bf16"))
    assert code == 0 and len(parse_results(out)) == 1
    assert err.strip().splitlines() == [
        "predict.py: note: on this CPU --precision bf16 is likely slower than fp32: 1.2-1.6x slower than fp32 "
        "(AVX512-BF16 without AMX; measured on an Intel Xeon without AMX); running bf16 as asked"]
    monkeypatch.setattr(predictors, "CPUINFO", fake_cpuinfo(tmp_path, FLAGS_AMX, "spr"))
    code, out, err = predict(capsys, paddle_args(model, "--use_gpu", "False", "--precision", "bf16"))
    assert code == 0 and err.strip() == ""  # with AMX: bf16 is the fast path, nothing to say


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_bf16_keeps_top1_on_a_bf16_cpu(model, capsys):  # noqa: F811
    """Runs only where the CPU has bf16: same class, score within 0.02, and the logits really differ
    from fp32 (bf16 ran, not a silent fp32)."""
    from paddlevideo.inference.predictors import bf16_flags
    from paddlevideo.inference.predictors import PaddlePredictor
    from paddlevideo.inference.preprocess import build_preprocessor
    from conftest import small_config
    if not bf16_flags():
        pytest.skip("this CPU has no AVX512-BF16/AMX-BF16")
    _, out32, _ = predict(capsys, paddle_args(model, "--use_gpu", "False"))
    code, out16, _ = predict(capsys, paddle_args(model, "--use_gpu", "False", "--precision", "bf16"))
    (_, c32, s32), = parse_results(out32)
    (_, c16, s16), = parse_results(out16)
    assert code == 0 and c16 == c32 and abs(s16 - s32) <= 0.02
    batch = build_preprocessor(small_config().INFERENCE)(model["video"])
    fp32 = PaddlePredictor(model["pdmodel"], model["params"], disable_glog=True).run(batch)
    bf16 = PaddlePredictor(model["pdmodel"], model["params"], precision="bf16", disable_glog=True).run(batch)
    assert 1e-5 < np.abs(bf16 - fp32).max() / np.abs(fp32).max() < 0.05
