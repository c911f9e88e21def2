"""TSN training speed on this CPU: our set-up beside PaddleVideo's default one, in one run.

1. The training step (forward, backward, Momentum step of the TSN frames config's ResNet-50 on batch 4 x
   3 segments = 12 frames of 224x224), timed in two fresh processes that differ only in the CPU set-up:
   - ours: ``paddlevideo.setup_runtime()`` before ``import paddle``, as every entry point does
     (``OMP_NUM_THREADS`` = the usable CPUs; ``MKL_DEBUG_CPU_TYPE=5`` on AMD);
   - PaddleVideo's default: nothing set, so ``import paddle`` sets ``OMP_NUM_THREADS=1``.
   The two alternate (``--rounds``), so machine drift hits both; the ratio is of the best step of each.
2. The real training loop, end to end: ``main.py`` on generated Kinetics-sized rawframes (340x256 JPEGs,
   2 loader workers), read back from its ``metrics.jsonl``: batch and reader cost, frames/s, and the share
   of the fp32 GEMM rate measured in the same run.

    python benchmarks/bench_train.py                 # a few minutes on 2 cores
    python benchmarks/bench_train.py --smoke         # seconds: ResNet-18, 64x64, checks the script runs

A training step costs about 3x the forward FLOPs (forward + input and weight gradients).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_k400_frames.yaml")
TRAIN_FLOP_FACTOR = 3.0
SETUPS = {"ours": "setup_runtime() (all usable CPUs)",
          "paddlevideo": "PaddleVideo's default (import paddle sets OMP_NUM_THREADS=1)"}
# Variables setup_runtime() writes: removed from PaddleVideo's environment, so Paddle picks its own default.
RUNTIME_VARS = ("OMP_NUM_THREADS", "MKL_DEBUG_CPU_TYPE")


def model_overrides(smoke: bool) -> list:
    """Config overrides of the benchmarked model: the frames config's ResNet-50, or a tiny one for --smoke."""
    common = ["MODEL.backbone.pretrained="]
    if not smoke:
        return common
    return common + ["MODEL.backbone.depth=18", "MODEL.head.in_channels=512",
                     "PIPELINE.train.transform.0.Scale.short_size=72",
                     "PIPELINE.train.transform.1.MultiScaleCrop.target_size=64"]


# ------------------------------------------------------------------ 1. the step, in a child process
def step_child(setup: str, steps: int, batch_size: int, smoke: bool) -> dict:
    """Time ``steps`` training steps after 2 warm-up ones; runs in a fresh process (threads are fixed
    when Paddle is imported). Returns ``{"setup", "threads", "best_s", "median_s"}``."""
    sys.path.insert(0, ROOT)
    if setup == "ours":
        import paddlevideo
        paddlevideo.setup_runtime("WARNING")
    import numpy as np
    import paddle
    from paddlevideo.modeling import build_model
    from paddlevideo.solver import build_lr, build_optimizer
    from paddlevideo.utils.config import get_config

    cfg = get_config(CONFIG, overrides=model_overrides(smoke), show=False)
    num_seg, size = cfg.PIPELINE.train.sample.num_seg, cfg.PIPELINE.train.transform[1].MultiScaleCrop.target_size
    paddle.seed(0)
    model = build_model(cfg.MODEL)
    model.train()
    optimizer = build_optimizer(cfg.OPTIMIZER, build_lr(cfg.OPTIMIZER.learning_rate, 1), model=model)
    rng = np.random.default_rng(0)
    imgs = paddle.to_tensor(rng.standard_normal((batch_size, num_seg, 3, size, size), dtype=np.float32))
    labels = paddle.to_tensor(rng.integers(0, cfg.MODEL.head.num_classes, (batch_size, 1)).astype("int64"))
    times = []
    for i in range(steps + 2):
        start = time.perf_counter()
        loss = model([imgs, labels], "train")["loss"]
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        float(loss)  # wait for the step to finish
        if i >= 2:
            times.append(time.perf_counter() - start)
    return {"setup": setup, "threads": os.environ.get("OMP_NUM_THREADS", "?"),
            "best_s": min(times), "median_s": float(np.median(times)), "frames": batch_size * num_seg}


def run_step_child(setup: str, args) -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if setup == "paddlevideo":
        for var in RUNTIME_VARS:
            env.pop(var, None)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", setup, "--steps", str(args.steps),
           "--batch_size", str(args.batch_size)] + (["--smoke"] if args.smoke else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"bench_train.py: the {setup} step process failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare_steps(args) -> dict:
    """Best step time of each set-up over ``args.rounds`` alternating rounds."""
    best = {}
    for _ in range(args.rounds):
        for setup in SETUPS:
            result = run_step_child(setup, args)
            if setup not in best or result["best_s"] < best[setup]["best_s"]:
                best[setup] = result
    return best


# ------------------------------------------------------------------ 2. the real loop, through main.py
def make_frames(root, clips, frames=12, size=(340, 256)):
    """``clips`` folders of ``frames`` noisy 340x256 JPEGs (Kinetics rawframes size) and a list file."""
    import cv2
    import numpy as np
    rng = np.random.default_rng(0)
    lines = []
    for c in range(clips):
        folder = os.path.join(root, f"clip_{c:03d}")
        os.makedirs(folder, exist_ok=True)
        base = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
        for t in range(frames):
            cv2.imwrite(os.path.join(folder, f"img_{t + 1:05d}.jpg"), np.roll(base, 7 * t, axis=1))
        lines.append(f"clip_{c:03d} {frames} {c % 400}")
    path = os.path.join(root, "train.list")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_loop(args, tmp: str) -> dict:
    """Train ``args.iters`` + 2 iterations with ``main.py``; the costs of the iterations after the first 2."""
    warmup = 2
    list_path = make_frames(tmp, clips=args.batch_size * (args.iters + warmup))
    out_dir = os.path.join(tmp, "output")
    overrides = model_overrides(args.smoke) + [
        f"DATASET.batch_size={args.batch_size}", f"DATASET.num_workers={args.workers}",
        f"DATASET.train.data_prefix={tmp}", f"DATASET.train.file_path={list_path}",
        "log_interval=1", "epochs=1", f"output_dir={out_dir}"]
    cmd = [sys.executable, os.path.join(ROOT, "main.py"), "-c", CONFIG, "--max_iters", str(args.iters + warmup)]
    for item in overrides:
        cmd += ["-o", item]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"bench_train.py: main.py failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    with open(os.path.join(out_dir, "metrics.jsonl"), encoding="utf-8") as f:
        steps = [r for r in map(json.loads, f) if r["event"] == "step" and r["mode"] == "train"]
    measured = steps[warmup:]
    batch = [r["batch_cost"] for r in measured]
    reader = [r["reader_cost"] for r in measured]
    return {"iters": len(measured), "batch_cost": sum(batch) / len(batch), "reader_cost": sum(reader) / len(reader),
            "fastest": min(batch)}


# ------------------------------------------------------------------ the report
SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")


def cpu_flags_line() -> str:
    """The processor's family and model, and the CPU flags that decide these figures (present and absent)."""
    info = {}
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            for line in f:
                key, _, value = line.partition(":")
                if not line.strip():
                    break  # the first processor is enough
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = info.get("flags", "").split()
    return (f"CPU family {info.get('cpu family', '?')} model {info.get('model', '?')}; flags: "
            + ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in SPEED_FLAGS))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per process (after 2 warm-up ones)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of the two set-ups")
    parser.add_argument("--iters", type=int, default=8, help="timed loop iterations (after 2 warm-up ones)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the loop (default 2)")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="ResNet-18 at 64x64, 1 round: checks the script runs")
    parser.add_argument("--child", choices=sorted(SETUPS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(step_child(args.child, args.steps, args.batch_size, args.smoke)))
        return 0
    if args.smoke:
        args.steps, args.rounds, args.iters = 2, 1, 2

    sys.path.insert(0, ROOT)
    from benchmarks.common import RESNET50_GFLOP_PER_FRAME, machine_line, measure_gemm_gflops
    print(machine_line())
    print(cpu_flags_line())
    gemm_before = measure_gemm_gflops()
    steps = compare_steps(args)
    with tempfile.TemporaryDirectory() as tmp:
        loop = run_loop(args, tmp)
    gemm_after = measure_gemm_gflops()
    gemm = max(gemm_before, gemm_after)  # the machine may be shared: compare with the higher one
    print(f"fp32 GEMM (numpy 2048^2, same run): {gemm:.1f} GFLOP/s (start {gemm_before:.1f}, end {gemm_after:.1f})")
    model = "ResNet-18 64x64 (smoke)" if args.smoke else "ResNet-50 224x224"
    frames = steps["ours"]["frames"]
    print(f"Training step, {model}, {frames} frames (best of {args.rounds} x {args.steps} steps per set-up):")
    for setup, label in SETUPS.items():
        r = steps[setup]
        gflops = frames * RESNET50_GFLOP_PER_FRAME * TRAIN_FLOP_FACTOR / r["best_s"]
        share = "" if args.smoke else f", {100 * gflops / gemm:.0f}% of the GEMM rate"
        print(f"  {label}: OMP_NUM_THREADS={r['threads']}: {r['best_s']:.3f} s (median {r['median_s']:.3f} s), "
              f"{frames / r['best_s']:.2f} frames/s{share}")
    ratio = steps["paddlevideo"]["best_s"] / steps["ours"]["best_s"]
    print(f"  ours / PaddleVideo's default: {ratio:.2f}x {'faster' if ratio >= 1 else 'slower'}")
    num_seg = frames // args.batch_size
    clips_s = args.batch_size / loop["batch_cost"]
    gflops = clips_s * num_seg * RESNET50_GFLOP_PER_FRAME * TRAIN_FLOP_FACTOR
    share = "" if args.smoke else f" = {100 * gflops / gemm:.0f}% of the GEMM rate"
    print(f"Training loop (main.py, batch {args.batch_size}, {args.workers} loader workers, {loop['iters']} iterations):")
    print(f"  batch_cost {loop['batch_cost']:.3f} s, reader_cost {loop['reader_cost']:.4f} s "
          f"({100 * loop['reader_cost'] / loop['batch_cost']:.1f}% of the batch)")
    print(f"  {clips_s:.2f} clips/s, {clips_s * num_seg:.2f} frames/s{share}; fastest iteration "
          f"{loop['fastest']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
