"""Per-video latency of TSN's test-time input through predict.py's predictors on this CPU.

    python benchmarks/bench_predict.py [--video PATH] [--threads 1,2] [--e2e]

One video = 25 segments x 10 crops = 250 frames at 224x224 through ResNet-50 (250 x 8.22 GFLOP).
Measured in one run, beside this machine's fp32 GEMM GFLOP/s: preprocessing (the loader's ops), then
onnxruntime, Paddle Inference with and without oneDNN, and Paddle dygraph (``infer_step``), each at
the given thread counts. A model with random weights is exported to a temp folder first (speed does
not depend on the weights). Each configuration runs in its own process (own thread settings, own
memory; a crash loses one row, not the run). Figures are the best of ``--repeats`` timed runs after
one untimed warm-up run for oneDNN and onnxruntime (their first run builds kernels); the slow native
and dygraph paths are timed from their first run unless ``--slow_warmup``. Whole run: ~6-8 min here.

``--e2e``: ``tools/predict.py`` itself, one process per (model, video, precision, view chunk): steady
seconds per video (``--enable_benchmark``: after one warm-up run), process peak RSS, top-1 class and
score; then one cold process per configuration: wall time from process start to printed result.
Models: the random ResNet-50 TSN, plus ``--demo_model X.pdmodel`` (e.g. the demo's trained model).
An ``int8:CHUNK`` configuration runs the random model's int8 twin, quantized first by
``paddlevideo.slim.quantize`` (the code behind ``deploy/slim/quant_post_static.py``) calibrated on the
``--videos`` (``--quant_algo``); for the demo model, pass its quantized twin as ``--demo_int8_model``, and
``--demo_list data/demo/val.list --demo_prefix data/demo/videos`` to compare every test clip's top-1.

``--precision-check``: fp32 vs bf16 vs int8 on a short chunk of ``--video`` (``--check_views`` views),
the processor's AMX/AVX512-BF16/VNNI flags, and which precision to use here (``precision_check.py``).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import common  # noqa: F401  (CPU runtime before numpy/paddle start)
from common import RESNET50_GFLOP_PER_FRAME, machine_line, measure_gemm_gflops, time_best

import numpy as np  # noqa: E402

CONFIG = os.path.join(common.ROOT, "configs", "recognition", "tsn", "tsn_k400_videos.yaml")
SHARED_VIDEO = os.path.join(os.path.dirname(common.ROOT), "shared", "data", "example.avi")
E2E_VIDEOS = [os.path.join(os.path.dirname(SHARED_VIDEO), name)
              for name in ("example.avi", "bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")]
PATHS = ("onnxruntime", "paddle_onednn", "paddle_native", "dygraph")
WARM_PATHS = ("onnxruntime", "paddle_onednn")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", default=SHARED_VIDEO, help="video to preprocess (a generated one if absent)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"subset of {','.join(PATHS)}")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per configuration (best kept)")
    parser.add_argument("--slow_warmup", action="store_true", help="also warm up the native and dygraph paths")
    parser.add_argument("--e2e", action="store_true", help="time tools/predict.py end to end (see above)")
    parser.add_argument("--videos", default=",".join(E2E_VIDEOS), help="--e2e: comma-separated videos")
    parser.add_argument("--configs", default="fp32:0,fp32:25,bf16:0,bf16:25",
                        help="--e2e: comma-separated PRECISION:VIEW_CHUNK")
    parser.add_argument("--demo_model", default=None, help="--e2e: also this exported X.pdmodel (X.yml beside)")
    parser.add_argument("--precision-check", dest="precision_check", action="store_true",
                        help="fp32 vs bf16 vs int8 on a short chunk: which precision to use on this CPU")
    parser.add_argument("--check_views", type=int, default=25, help="--precision-check: views timed")
    parser.add_argument("--quant_algo", default="abs_max", help="--e2e int8: calibration algorithm")
    parser.add_argument("--demo_int8_model", default=None, help="--e2e int8: the demo model's quantized twin")
    parser.add_argument("--demo_list", default=None,
                        help="--e2e: also every clip of this list (e.g. data/demo/val.list) through the demo "
                             "model at each precision: top-1 against fp32 clip by clip")
    parser.add_argument("--demo_prefix", default=None, help="--demo_list: folder its relative paths start from")
    parser.add_argument("--worker", nargs=4, metavar=("PATH", "THREADS", "WORKDIR", "REPEATS_WARMUP"),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def build_model(data_format="NCHW"):
    import paddle
    from paddlevideo.modeling import build_model as build
    from paddlevideo.utils.config import get_config
    cfg = get_config(CONFIG, show=False)
    cfg.MODEL.backbone.pretrained = ""
    cfg.MODEL.backbone.data_format = data_format
    paddle.seed(0)
    with paddle.utils.unique_name.guard():
        model = build(cfg.MODEL)
    model.eval()
    return model, cfg


def export_resnet50(workdir, data_format, onnx, log):
    """Random-weight ResNet-50 TSN (400 classes) -> ``workdir/<format>/TSN.pdmodel`` (+ ``.onnx``)."""
    import paddle
    from paddlevideo.inference.export import export_model
    model, cfg = build_model(data_format)
    weights = os.path.join(workdir, f"TSN_random_{data_format}.pdparams")
    paddle.save(model.state_dict(), weights)
    start = time.perf_counter()
    export_model(cfg, weights, os.path.join(workdir, data_format), "TSN", onnx=onnx)
    log(f"export {data_format} (pdmodel{' + onnx' if onnx else ''}): {time.perf_counter() - start:.1f} s")
    return cfg


def worker(path, threads, workdir, repeats_warmup):
    """Child process: time one configuration on ``workdir/input.npy``; print a JSON line."""
    from paddlevideo.inference.predictors import DygraphPredictor, OnnxPredictor, PaddlePredictor
    if path == "gemm":  # numpy's GEMM at this process's OMP_NUM_THREADS
        print("RESULT " + json.dumps({"gflops": measure_gemm_gflops()}), flush=True)
        return
    repeats, warmup = (int(v) for v in repeats_warmup.split(":"))
    batch = np.load(os.path.join(workdir, "input.npy"))
    prefix = os.path.join(workdir, "NCHW", "TSN")
    if path == "dygraph":
        from paddle.base import core
        core.set_num_threads(threads)
        predictor = DygraphPredictor(build_model()[0])
        import paddle
        predictor.model.set_state_dict(paddle.load(os.path.join(workdir, "TSN_random_NCHW.pdparams")))
    elif path == "onnxruntime":
        predictor = OnnxPredictor(prefix + ".onnx", cpu_threads=threads)
    else:
        predictor = PaddlePredictor(prefix + ".pdmodel", prefix + ".pdiparams", cpu_threads=threads,
                                    enable_mkldnn=(path == "paddle_onednn"), disable_glog=True)
    last = {}

    def once():
        last["out"] = predictor.run(batch)
    seconds = time_best(once, repeats=repeats, warmup=warmup)
    np.save(os.path.join(workdir, f"out_{path}_{threads}.npy"), last["out"])
    print("RESULT " + json.dumps({"seconds": seconds, "describe": predictor.describe()}), flush=True)


def run_worker(path, threads, workdir, repeats, warmup):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", path, str(threads), workdir, f"{repeats}:{warmup}"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
    return {"error": f"exit {proc.returncode}: {tail}"}


def log(text):
    print(text, flush=True)


def measure_gemm(thread_counts, gemm, when):
    """Update ``gemm[n]`` with the best GEMM rate seen at ``n`` threads (other work on a shared
    machine can only lower a measurement, so the start/end maximum is the ceiling)."""
    for n in thread_counts:
        rate = run_worker("gemm", n, ".", 1, 0).get("gflops", float("nan"))
        gemm[n] = max(gemm.get(n, 0.0), rate)
        log(f"fp32 GEMM (numpy 2048x2048, {n} thread{'s' if n > 1 else ''}, {when}): {rate:.1f} GFLOP/s")


def main():
    args = parse_args()
    if args.worker:
        path, threads, workdir, repeats_warmup = args.worker
        return worker(path, int(threads), workdir, repeats_warmup)
    log(f"machine: {machine_line()}")
    if args.precision_check:
        return precision_check_main(args)
    if args.e2e:
        return e2e_main(args)
    thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]
    gemm = {}
    measure_gemm(thread_counts, gemm, "start of run")
    workdir = tempfile.mkdtemp(prefix="bench_predict_")  # ~400 MB: model, ONNX, input; removed at the end
    try:
        rows, pre_s = run_benchmark(args, workdir, thread_counts)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measure_gemm(thread_counts, gemm, "end of run")
    log("")
    log("| path | threads | s/video | GFLOP/s | % of GEMM at the same threads (best of start/end) |")
    log("|---|---|---|---|---|")
    for path, n, seconds, rate in rows:
        log(f"| {path} | {n} | {seconds:.2f} | {rate:.1f} | {100 * rate / gemm[n]:.0f}% of {gemm[n]:.0f} |")
    log(f"| preprocess (250 crops of 224x224, with decoding) | - | {pre_s:.3f} | - | - |")


def benchmark_video(path, workdir):
    """``path`` when it exists, else a generated 300-frame 320x240 clip in ``workdir``."""
    if os.path.isfile(path):
        return path
    sys.path.insert(0, os.path.join(common.ROOT, "tests"))
    from conftest import write_video
    return write_video(os.path.join(workdir, "generated.avi"), num_frames=300, size=(320, 240))


def precision_check_main(args):
    from precision_check import precision_check
    workdir = tempfile.mkdtemp(prefix="bench_precision_")  # ~300 MB: fp32 and int8 models, one chunk
    try:
        precision_check(args, export_resnet50, benchmark_video(args.video, workdir), workdir, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_benchmark(args, workdir, thread_counts):
    """Export, preprocess, then time every (path, threads) in a child process; returns (rows, preprocess s)."""
    from paddlevideo.inference.preprocess import build_preprocessor
    video = benchmark_video(args.video, workdir)
    paths = [p for p in args.paths.split(",") if p]
    try:
        import paddle2onnx  # noqa: F401
        onnx = True
    except ImportError:
        onnx = False
        paths = [p for p in paths if p != "onnxruntime"]
        log("paddle2onnx not installed: onnxruntime skipped (pip install paddle2onnx onnxruntime)")
    cfg = export_resnet50(workdir, "NCHW", onnx, log)

    pre = build_preprocessor(cfg.INFERENCE)
    batch = pre(video)
    pre_s = time_best(lambda: pre(video), repeats=5)
    np.save(os.path.join(workdir, "input.npy"), batch)
    log(f"input: {os.path.basename(video)} -> {list(batch.shape)} float32")
    log(f"preprocess (decode 25 frames, Scale, TenCrop, Image2Array+Normalization): {pre_s * 1000:.0f} ms/video")

    gflop = batch.shape[1] * RESNET50_GFLOP_PER_FRAME
    rows, reference = [], None
    for path in paths:
        for n in thread_counts:
            warmup = 1 if path in WARM_PATHS or args.slow_warmup else 0
            result = run_worker(path, n, workdir, args.repeats, warmup)
            if "error" in result:
                log(f"{path:18s} threads={n}: FAILED ({result['error']})")
                continue
            out = np.load(os.path.join(workdir, f"out_{path}_{n}.npy"))
            if reference is None:
                reference = (f"{path} threads={n}", out)
            rel = float(np.abs(out - reference[1]).max() / np.abs(reference[1]).max())
            seconds = result["seconds"]
            rate = gflop / seconds
            rows.append((path, n, seconds, rate))
            log(f"{path:18s} threads={n}: {seconds:6.2f} s/video  {rate:6.1f} GFLOP/s  "
                f"(logits vs {reference[0]}: rel. diff {rel:.1e}; {result['describe']})")
    return rows, pre_s


def predict_once(model, video, precision, chunk, workdir, warm=True):
    """One ``tools/predict.py`` process -> ``{wall, rss_mb, cls, score, steady_s}`` (or ``{error}``)."""
    out_json = os.path.join(workdir, "e2e.json")
    cmd = [sys.executable, os.path.join(common.ROOT, "tools", "predict.py"), "-i", video, "--model_file", model,
           "--params_file", model[:-len(".pdmodel")] + ".pdiparams", "--use_gpu", "False", "--disable_glog",
           "--precision", precision, "--view_chunk", str(chunk), "--output_json", out_json]
    wall, rss, code, _, err = common.run_measured(cmd + (["--enable_benchmark", "True"] if warm else []))
    if code != 0:
        return {"error": (err.strip().splitlines() or ["?"])[-1][:200]}
    with open(out_json, encoding="utf-8") as f:
        saved = json.load(f)
    best = saved["results"][0]["top_k"][0]
    ms = saved.get("benchmark_ms_per_video", {})
    return {"wall": wall, "rss_mb": rss, "cls": best["class"], "score": best["score"],
            "steady_s": (ms.get("preprocess", 0) + ms.get("inference", 0)) / 1000 if ms else None}


def predict_list(model, listing, prefix, precision, workdir):
    """One ``tools/predict.py`` process over every clip of ``listing`` -> ``{file: (class, {class: score})}``."""
    out_json = os.path.join(workdir, "clips.json")
    cmd = [sys.executable, os.path.join(common.ROOT, "tools", "predict.py"), "-i", listing, "--model_file", model,
           "--params_file", model[:-len(".pdmodel")] + ".pdiparams", "--use_gpu", "False", "--disable_glog",
           "--precision", precision, "--top_k", "1000000", "--output_json", out_json]
    if prefix:
        cmd += ["--data_prefix", prefix]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    with open(out_json, encoding="utf-8") as f:
        results = json.load(f)["results"]
    return {r["file"]: (r["top_k"][0]["class"], {e["class"]: e["score"] for e in r["top_k"]}) for r in results}


def demo_clips_report(args, precisions, workdir):
    """The demo model on every clip of ``--demo_list``: top-1 and largest score difference against fp32."""
    models = {"fp32": args.demo_model, "bf16": args.demo_model, "int8": args.demo_int8_model}
    base = predict_list(args.demo_model, args.demo_list, args.demo_prefix, "fp32", workdir)
    if "error" in base:
        log(f"demo clips: fp32 FAILED: {base['error']}")
        return
    for precision in precisions:
        if precision == "fp32" or not models.get(precision):
            continue
        other = predict_list(models[precision], args.demo_list, args.demo_prefix, precision, workdir)
        if "error" in other:
            log(f"demo clips: {precision} FAILED: {other['error']}")
            continue
        same = sum(other[f][0] == base[f][0] for f in base)
        worst = max(abs(score - other[f][1][c]) for f in base for c, score in base[f][1].items())
        log(f"demo model, {len(base)} clips of {os.path.basename(args.demo_list)}: {precision} top-1 as fp32 on "
            f"{same}/{len(base)}; largest score difference (any class) {worst:.4f}")


def in_fresh_process(fn, *args):
    """``fn(*args)`` in a spawned interpreter. Linux reports a child's peak RSS as at least the size of
    the process that forked it, so the parent that launches the measured runs must stay small: the
    export and quantization (Paddle, the model) happen elsewhere."""
    import multiprocessing
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        return pool.apply(fn, args)
    finally:  # close + join, not the context manager's terminate: Paddle prints a C++ report on SIGTERM
        pool.close()
        pool.join()


def e2e_main(args):
    """Steady s/video, peak RSS, top-1 per (model, video, config); first-video wall per config; ratios."""
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",") if c]
    videos = [v for v in args.videos.split(",") if os.path.isfile(v)]
    gemm = {}
    measure_gemm([common.usable_threads()], gemm, "start of run")
    workdir = tempfile.mkdtemp(prefix="bench_e2e_")
    try:
        in_fresh_process(export_resnet50, workdir, "NCHW", False, log)
        models = {"resnet50-random": os.path.join(workdir, "NCHW", "TSN.pdmodel")}
        int8_models = {}  # the quantized twin of each model, for the int8 configurations
        if any(prec == "int8" for prec, _ in configs):
            from precision_check import quantize_model
            int8_models["resnet50-random"] = in_fresh_process(quantize_model, os.path.join(workdir, "NCHW"),
                                                              os.path.join(workdir, "int8"), videos, workdir, log,
                                                              args.quant_algo)
        if args.demo_model:
            models["demo-trained"] = args.demo_model
            if args.demo_int8_model:
                int8_models["demo-trained"] = args.demo_int8_model
        runs = {}  # (model, video, config) -> list of results
        for rep in range(args.repeats):
            for mname, model in models.items():
                for video in videos:
                    for prec, chunk in configs:
                        if prec == "int8" and mname not in int8_models:
                            continue
                        model_file = int8_models[mname] if prec == "int8" else model
                        r = predict_once(model_file, video, prec, chunk, workdir)
                        runs.setdefault((mname, os.path.basename(video), (prec, chunk)), []).append(r)
                        log(f"[{rep}] {mname} {os.path.basename(video)} {prec} chunk {chunk}: {r}")
        cold = {}
        for rep in range(args.repeats):
            for prec, chunk in configs:
                model_file = int8_models["resnet50-random"] if prec == "int8" else models["resnet50-random"]
                r = predict_once(model_file, videos[0], prec, chunk, workdir, warm=False)
                cold.setdefault((prec, chunk), []).append(r)
                log(f"[{rep}] cold process {prec} chunk {chunk}: {r}")
        if args.demo_model and args.demo_list:
            demo_clips_report(args, sorted({prec for prec, _ in configs}), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measure_gemm([common.usable_threads()], gemm, "end of run")
    e2e_report(runs, cold, configs)


def _span(values, fmt="{:.2f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}-{fmt.format(hi)}"


def _pairs_by_config(runs):
    """``{(model, precision, chunk): [(video, fp32 result, result, speed-up), ...]}``, non-fp32 only."""
    pairs = {}
    for (mname, video, (prec, chunk)), rs in runs.items():
        base = runs.get((mname, video, ("fp32", chunk)))
        ok, ok0 = [r for r in rs if "error" not in r], [r for r in (base or []) if "error" not in r]
        if prec != "fp32" and ok and ok0:
            speed = min(r["steady_s"] for r in ok0) / min(r["steady_s"] for r in ok)
            pairs.setdefault((mname, prec, chunk), []).append((video, ok0[0], ok[0], speed))
    return pairs


def e2e_report(runs, cold, configs):
    log("\n| model | video | precision | view chunk | steady s/video (best, range) | peak RSS MB | top-1 | score |")
    log("|---|---|---|---|---|---|---|---|")
    for (mname, video, (prec, chunk)), rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        if not ok:
            log(f"| {mname} | {video} | {prec} | {chunk} | FAILED: {rs[0]['error']} | | | |")
            continue
        log(f"| {mname} | {video} | {prec} | {chunk} | {min(r['steady_s'] for r in ok):.2f} "
            f"({_span([r['steady_s'] for r in ok])}) | {_span([r['rss_mb'] for r in ok], '{:.0f}')} | "
            f"{ok[0]['cls']} | {ok[0]['score']:.5f} |")
    pairs_by_config = _pairs_by_config(runs)
    log("\nratios per (model, video), best steady times; score difference = |precision - fp32| top-1 score:")
    for (mname, prec, chunk), pairs in pairs_by_config.items():
        for video, base, result, speed in pairs:
            log(f"  {mname} {video} chunk {chunk}: {prec} {speed:.2f}x fp32; top-1 {base['cls']} vs {result['cls']} "
                f"({'same' if base['cls'] == result['cls'] else 'DIFFERENT'}); score diff "
                f"{abs(base['score'] - result['score']):.4f}")
    log("\nsummary per (model, precision, view chunk) against fp32 at the same chunk, over the videos:")
    for (mname, prec, chunk), pairs in pairs_by_config.items():
        same = sum(base["cls"] == result["cls"] for _, base, result, _ in pairs)
        log(f"  {mname} {prec} chunk {chunk}: top-1 as fp32 on {same}/{len(pairs)} videos; largest top-1 score "
            f"difference {max(abs(base['score'] - result['score']) for _, base, result, _ in pairs):.4f}; "
            f"{_span([speed for *_, speed in pairs])}x fp32 per video")
    log("\ncold process, one video, start to exit (first-run penalty included):")
    for cfg, rs in cold.items():
        ok = [r for r in rs if "error" not in r]
        log(f"  {cfg[0]} chunk {cfg[1]}: wall {_span([r['wall'] for r in ok])} s, peak RSS {_span([r['rss_mb'] for r in ok], '{:.0f}')} MB")


if __name__ == "__main__":
    main()
