"""Views fed in chunks: same scores as one shot, fixed-view exports run one shot, TensorRT shape ranges."""
import numpy as np
import pytest

from test_predict import model, paddle_args, parse_results, predict  # noqa: F401  (module fixture)


def test_chunk_bounds_cover_the_views_with_near_equal_chunks():
    from paddlevideo.inference.predictors import chunk_bounds
    assert chunk_bounds(250, 50) == [(0, 50), (50, 100), (100, 150), (150, 200), (200, 250)]
    sizes = [b - a for a, b in chunk_bounds(250, 64)]
    assert sizes == [63, 63, 62, 62]  # 4 chunks, at most two shapes for oneDNN
    assert chunk_bounds(30, 0) == [(0, 30)] and chunk_bounds(30, 30) == [(0, 30)] and chunk_bounds(30, 99) == [(0, 30)]
    for views, chunk in [(7, 3), (30, 7), (250, 1), (251, 50)]:
        bounds = chunk_bounds(views, chunk)
        assert bounds[0][0] == 0 and bounds[-1][1] == views and all(b - a <= chunk for a, b in bounds)
        assert all(bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1))


def test_free_and_fixed_view_dimensions():
    from paddlevideo.inference.predictors import takes_any_view_count
    assert takes_any_view_count([-1, -1, 3, 64, 64]) and takes_any_view_count([None, None, 3, 64, 64])
    assert takes_any_view_count(["batch", "p2o.DynamicDimension.1", 3, 64, 64])
    assert not takes_any_view_count([-1, 250, 3, 224, 224]) and not takes_any_view_count(None)


def small_batch(model):  # noqa: F811
    from paddlevideo.inference.preprocess import build_preprocessor
    from conftest import small_config
    video = build_preprocessor(small_config().INFERENCE)(model["video"])  # [1, 30, 3, 64, 64]
    return np.concatenate([video, video[:, ::-1, :, :, ::-1].copy()])  # N=2, different views


@pytest.mark.slow  # exports a small model (module fixture) and runs it
@pytest.mark.parametrize("kind", ["pdmodel", "json", "onnx"])
def test_chunked_scores_equal_one_shot(model, kind):  # noqa: F811
    from paddlevideo.inference.predictors import OnnxPredictor, PaddlePredictor
    from paddlevideo.inference.predictors import ViewChunkPredictor, with_view_chunks
    if kind == "onnx":
        inner = OnnxPredictor(model["onnx"])
    else:
        inner = PaddlePredictor(model[kind], model["params"], disable_glog=True)
    batch = small_batch(model)
    one_shot = inner.run(batch)  # all 30 views at once, as PaddleVideo's predict.py feeds them
    assert one_shot.shape == (2, 4)
    for chunk in (7, 10, 1):
        chunked = with_view_chunks(inner, chunk)
        assert isinstance(chunked, ViewChunkPredictor) and f"chunks of {chunk}" in chunked.describe()
        got = chunked.run(batch)
        assert got.dtype == np.float32
        rel = np.abs(got - one_shot).max() / np.abs(one_shot).max()
        assert rel <= 1e-5, f"{kind}, chunk {chunk}: relative difference {rel:.2e}"
    assert with_view_chunks(inner, 0) is inner


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_chunks_are_really_fed(model, monkeypatch):  # noqa: F811
    from paddlevideo.inference.predictors import PaddlePredictor
    from paddlevideo.inference.predictors import with_view_chunks
    inner = PaddlePredictor(model["pdmodel"], model["params"], disable_glog=True)
    seen = []
    run = inner.run
    monkeypatch.setattr(inner, "run", lambda batch: seen.append(batch.shape[:2]) or run(batch))
    with_view_chunks(inner, 7).run(small_batch(model))
    assert seen == [(2, 6)] * 5  # 30 views -> 5 chunks of 6


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_fixed_view_export_runs_one_shot(model, capsys):  # noqa: F811
    """PaddleVideo's exports fix the view count: no chunking, whatever --view_chunk says."""
    from paddlevideo.inference.predictors import PaddlePredictor
    from paddlevideo.inference.predictors import with_view_chunks
    inner = PaddlePredictor(model["fixed"] + ".pdmodel", model["fixed"] + ".pdiparams", disable_glog=True)
    assert inner.input_shape == [-1, 30, 3, 64, 64] and with_view_chunks(inner, 7) is inner
    argv = paddle_args({**model, "pdmodel": model["fixed"] + ".pdmodel", "params": model["fixed"] + ".pdiparams"})
    code, out, _ = predict(capsys, argv + ["--use_gpu", "False", "--view_chunk", "7"])
    code_ref, out_ref, _ = predict(capsys, paddle_args(model, "--use_gpu", "False", "--view_chunk", "0"))
    (_, cls, score), = parse_results(out)
    (_, cls_ref, score_ref), = parse_results(out_ref)
    assert code == code_ref == 0 and cls == cls_ref and abs(score - score_ref) <= 1e-5


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_cli_chunked_equals_one_shot_and_rejects_negative(model, capsys):  # noqa: F811
    _, out0, _ = predict(capsys, paddle_args(model, "--use_gpu", "False", "--view_chunk", "0"))
    code, out7, _ = predict(capsys, paddle_args(model, "--use_gpu", "False", "--view_chunk", "7"))
    (_, c0, s0), = parse_results(out0)
    (_, c7, s7), = parse_results(out7)
    assert code == 0 and c0 == c7 and abs(s0 - s7) <= 1e-5 * max(s0, 1e-3)
    code, out, err = predict(capsys, paddle_args(model, "--view_chunk", "-1"))
    assert code == 2 and "Current video file" not in out
    assert err.strip().splitlines() == ["predict.py: error: --view_chunk must be 0 (all views at once) or a "
                                        "positive number, got -1"]


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_any_view_count_runs(model):  # noqa: F811
    """Another num_seg than the export's (40 views instead of 30) runs on the free view dimension."""
    from paddlevideo.inference.predictors import PaddlePredictor
    inner = PaddlePredictor(model["pdmodel"], model["params"], disable_glog=True)
    batch = np.random.default_rng(0).standard_normal([1, 40, 3, 64, 64]).astype(np.float32)
    assert inner.run(batch).shape == (1, 4)


def test_tensorrt_shape_ranges():
    from paddlevideo.inference.predictors import tensorrt_shape_ranges
    video = [1, 250, 3, 224, 224]
    low, high, opt = tensorrt_shape_ranges("x", [-1, -1, 3, 224, 224], video, batch_size=2, view_chunk=50)
    assert low == {"x": [1, 1, 3, 224, 224]}  # the last run may hold 1 video; chunks of any size
    assert high == {"x": [2, 250, 3, 224, 224]}  # all views at once (--view_chunk 0)
    assert opt == {"x": [2, 50, 3, 224, 224]}  # what predict feeds by default
    assert tensorrt_shape_ranges("x", [-1, -1, 3, 224, 224], video, 1, 0)[2] == {"x": [1, 250, 3, 224, 224]}
    assert tensorrt_shape_ranges("x", [-1, -1, 3, 224, 224], video, 1, 999)[2] == {"x": [1, 250, 3, 224, 224]}
    assert tensorrt_shape_ranges("x", [-1, 250, 3, 224, 224], video, 1, 50) is None  # PaddleVideo's fixed export


def test_tensorrt_ranges_reach_the_config(monkeypatch):
    """The ranges go to ``set_trt_dynamic_shape_info`` in Paddle's (min, max, opt) order."""
    from paddlevideo.inference import predictors

    class Config:
        calls = []

        def __init__(self, *files):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: Config.calls.append((name, args))

    import types
    fake_inference = types.SimpleNamespace(Config=Config, create_predictor=lambda config: "predictor")
    import sys
    import paddle
    monkeypatch.setattr(paddle, "inference", fake_inference)
    monkeypatch.setitem(sys.modules, "paddle.inference", fake_inference)
    monkeypatch.setattr(predictors, "tensorrt_precision", lambda precision: precision)
    ranges = ({"x": [1, 1, 3, 8, 8]}, {"x": [1, 30, 3, 8, 8]}, {"x": [1, 10, 3, 8, 8]})
    fake = predictors.PaddlePredictor.__new__(predictors.PaddlePredictor)
    fake.model_file, fake.params_file, fake.use_gpu = "m.pdmodel", "m.pdiparams", True
    assert fake._create(False, 100, True, "fp16", True, 30, True, ranges) == "predictor"
    assert ("set_trt_dynamic_shape_info", ranges) in Config.calls
