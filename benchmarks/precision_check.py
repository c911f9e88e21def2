"""``bench_predict.py --precision-check``: which CPU precision to use on this machine, measured.

Times fp32, bf16 and int8 on a short chunk of one preprocessed video (default 25 views of 224x224, one
``--view_chunk`` of predict) through predict's own Paddle Inference backend (oneDNN), each precision in
its own process, best of ``--repeats`` after one warm-up run. The model is a random-weight ResNet-50 TSN
(speed does not depend on the weights); its int8 twin is written by the project's quantizer
(``paddlevideo.slim.quantize``, the code behind ``deploy/slim/quant_post_static.py``) with ``abs_max``
calibration on the same video (calibration changes the scales, not the speed). Prints the processor and
its AMX / AVX512-BF16 / VNNI flags, one row per precision (seconds, speed-up over fp32, top-1 and logits
cosine against fp32) and the precision to use: the fastest one that keeps fp32's top-1 and is at least
10% faster than fp32 (less is within this machine's run-to-run noise).
"""
import json
import os
import subprocess
import sys

import numpy as np

import common
from common import time_best

PRECISIONS = ("fp32", "bf16", "int8")
FEATURES = (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx512_bf16", "AVX512-BF16"), ("amx_bf16", "AMX-BF16"),
            ("amx_int8", "AMX-INT8"), ("avx512_vnni", "AVX512-VNNI"), ("avx_vnni", "AVX-VNNI"))
MIN_GAIN = 1.10  # a precision is recommended over fp32 only when at least this much faster
QUANT_CONFIG = os.path.join(common.ROOT, "configs", "recognition", "tsn", "tsn_k400_videos_quantization.yaml")


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset:
    """The first processor's ``flags`` in ``cpuinfo`` (empty when unreadable)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("flags") and ":" in line:
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def features_line(flags) -> str:
    """``AVX2 yes, AVX-512 yes, AVX512-BF16 yes, AMX-BF16 no, ...``: the flags that decide the precision."""
    return ", ".join(f"{name} {'yes' if flag in flags else 'no'}" for flag, name in FEATURES)


def quantize_model(fp32_dir: str, int8_dir: str, videos, workdir: str, log, algo="abs_max"):
    """The fp32 export's int8 twin through the shipped videos config, calibrated on ``videos``."""
    from paddlevideo.slim import quant_settings, quantize
    from paddlevideo.utils.config import get_config
    videos = [videos] if isinstance(videos, str) else list(videos)
    listing = os.path.join(workdir, "calibration.list")
    with open(listing, "w", encoding="utf-8") as f:
        f.writelines(f"{os.path.abspath(video)} 0\n" for video in videos)
    name = next(f[:-len(".pdmodel")] for f in sorted(os.listdir(fp32_dir)) if f.endswith(".pdmodel"))
    cfg = get_config(QUANT_CONFIG, show=False, overrides=[
        f"DATASET.quant.file_path={listing}", f"DATASET.batch_nums={len(videos)}", f"model_name={name}",
        f"inference_model_dir={fp32_dir}", f"quant_output_dir={int8_dir}", "PIPELINE.quant.decode.backend=cv2"])
    result = quantize(quant_settings(cfg, QUANT_CONFIG), algo=algo, view_chunk=8)
    log(f"int8 model: {algo} on {result.views} views of {len(videos)} video(s), {result.seconds:.0f} s")
    return os.path.join(int8_dir, name + ".pdmodel")


def worker(precision: str, threads: int, workdir: str, repeats: int):
    """Child process: time ``precision`` on ``workdir/chunk.npy``; print one ``RESULT {json}`` line."""
    from paddlevideo.inference.predictors import PaddlePredictor
    prefix = os.path.join(workdir, "int8" if precision == "int8" else "NCHW", "TSN")
    batch = np.load(os.path.join(workdir, "chunk.npy"))
    predictor = PaddlePredictor(prefix + ".pdmodel", prefix + ".pdiparams", cpu_threads=threads,
                                enable_mkldnn=True, precision=precision, disable_glog=True)
    last = {}

    def once():
        last["out"] = predictor.run(batch)
    seconds = time_best(once, repeats=repeats, warmup=1)
    np.save(os.path.join(workdir, f"logits_{precision}.npy"), last["out"])
    print("RESULT " + json.dumps({"seconds": seconds}), flush=True)


def run_worker(precision, threads, workdir, repeats):
    cmd = [sys.executable, os.path.abspath(__file__), precision, str(threads), workdir, str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = [line for line in proc.stderr.strip().splitlines() if line.strip()] or ["no output"]
    return {"error": tail[-1][:240]}


def recommend(rows) -> str:
    """The precision to use: the fastest that keeps fp32's top-1 and gains at least ``MIN_GAIN``."""
    fp32 = rows.get("fp32")
    if not fp32 or "seconds" not in fp32:
        return "fp32 (the only precision measured)"
    best, best_gain = "fp32", 1.0
    for precision, row in rows.items():
        if precision == "fp32" or "seconds" not in row or not row["same_top1"]:
            continue
        gain = fp32["seconds"] / row["seconds"]
        if gain >= MIN_GAIN and gain > best_gain:
            best, best_gain = precision, gain
    if best == "fp32":
        return "fp32 (no other precision was at least 10% faster here with the same top-1)"
    how = {"int8": "quantize the export with deploy/slim/quant_post_static.py, then predict with --precision int8",
           "bf16": "predict with --precision bf16"}[best]
    return f"{best} ({best_gain:.2f}x fp32 on this CPU): {how}"


def precision_check(args, export_resnet50, video, workdir, log):
    """Measure and print; ``export_resnet50(workdir, data_format, onnx, log)`` writes ``workdir/NCHW/TSN.*``."""
    from paddlevideo.inference.preprocess import build_preprocessor
    flags = cpu_flags()
    log(f"CPU features: {features_line(flags)}")
    threads = common.usable_threads()
    cfg = export_resnet50(workdir, "NCHW", False, log)
    chunk = build_preprocessor(cfg.INFERENCE)(video)[:, :args.check_views]
    np.save(os.path.join(workdir, "chunk.npy"), chunk)
    log(f"input: {os.path.basename(video)} -> first {chunk.shape[1]} views {list(chunk.shape)} float32")
    quantize_model(os.path.join(workdir, "NCHW"), os.path.join(workdir, "int8"), video, workdir, log)
    rows = {}
    for precision in PRECISIONS:
        rows[precision] = run_worker(precision, threads, workdir, args.repeats)
        log(f"{precision}: {rows[precision]}")
    reference = np.load(os.path.join(workdir, "logits_fp32.npy")) if "seconds" in rows["fp32"] else None
    log(f"\n| precision | s per {chunk.shape[1]} views (best of {args.repeats}) | vs fp32 | top-1 as fp32 | "
        "logits cosine vs fp32 |")
    log("|---|---|---|---|---|")
    for precision, row in rows.items():
        if "seconds" not in row:
            log(f"| {precision} | not run: {row['error']} | | | |")
            continue
        out = np.load(os.path.join(workdir, f"logits_{precision}.npy"))
        row["same_top1"] = reference is not None and bool((out.argmax(-1) == reference.argmax(-1)).all())
        cosine = float((out * reference).sum() / np.linalg.norm(out) / np.linalg.norm(reference)) \
            if reference is not None else float("nan")
        gain = rows["fp32"]["seconds"] / row["seconds"] if reference is not None else float("nan")
        log(f"| {precision} | {row['seconds']:.3f} | {gain:.2f}x | {'yes' if row['same_top1'] else 'NO'} | "
            f"{cosine:.4f} |")
    log(f"\nuse: {recommend(rows)}")
    return rows


if __name__ == "__main__":
    worker(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
