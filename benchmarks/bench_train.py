"""Training throughput of the TSN frames config (ResNet-50, 3 segments, 224x224, batch 4) on this CPU.

Runs the real training loop (``paddlevideo.tasks.train.train_one_epoch``: loader with 2 workers,
forward, backward, Momentum step, logging) over generated Kinetics-sized rawframes (340x256 JPEGs),
and prints clips/s, frames/s, the loader's share of the batch time (``reader_cost / batch_cost``)
and the achieved GFLOP/s beside the fp32 GEMM rate measured in the same run.

    python benchmarks/bench_train.py [--iters 8] [--workers 2]

A training step costs about 3x the forward FLOPs (forward + input and weight gradients).
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import RESNET50_GFLOP_PER_FRAME, machine_line, measure_gemm_gflops  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

CONFIG = "configs/recognition/tsn/tsn_k400_frames.yaml"
TRAIN_FLOP_FACTOR = 3.0


def make_frames(root, clips, frames=12, size=(340, 256)):
    """``clips`` folders of ``frames`` noisy 340x256 JPEGs (Kinetics rawframes size) and a list file."""
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iters", type=int, default=8, help="measured iterations (after 2 warm-up ones)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (default 2)")
    parser.add_argument("--batch_size", type=int, default=4)
    args = parser.parse_args(argv)

    import paddle  # noqa: F401  (after paddlevideo, via benchmarks.common)
    from paddlevideo.solver import build_lr, build_optimizer
    from paddlevideo.modeling import build_model
    from paddlevideo.tasks.data import build_split
    from paddlevideo.tasks.train import make_train_state, train_one_epoch
    from paddlevideo.utils.config import get_config
    from paddlevideo.utils.logger import setup_logger

    print(machine_line())
    gemm_before = measure_gemm_gflops()
    with tempfile.TemporaryDirectory() as tmp:
        warmup = 2
        list_path = make_frames(tmp, clips=args.batch_size * (args.iters + warmup))
        cfg = get_config(CONFIG, show=False, overrides=[
            "MODEL.backbone.pretrained=", f"DATASET.batch_size={args.batch_size}",
            f"DATASET.num_workers={args.workers}", f"DATASET.train.data_prefix={tmp}",
            f"DATASET.train.file_path={list_path}", "log_interval=1000", "epochs=1"])
        setup_logger(None, level="WARNING")  # keep the benchmark's own lines readable
        paddle.seed(0)
        model = build_model(cfg.MODEL)
        _, loader = build_split(cfg, "train", seed=0)
        scheduler = build_lr(cfg.OPTIMIZER.learning_rate, len(loader))
        optimizer = build_optimizer(cfg.OPTIMIZER, scheduler, model=model)
        # Warm-up epoch (first-call allocations, worker start-up), then the measured one.
        train_one_epoch(model, optimizer, scheduler, loader, 0, cfg, make_train_state(max_iters=warmup))
        start = time.perf_counter()
        record = train_one_epoch(model, optimizer, scheduler, loader, 0, cfg,
                                 make_train_state(max_iters=args.iters))
        wall = time.perf_counter() - start
    # The machine is shared: measure the ceiling before and after, and compare with the higher one.
    gemm_after = measure_gemm_gflops()
    gemm = max(gemm_before, gemm_after)
    print(f"fp32 GEMM (numpy 2048^2, same run): {gemm:.1f} GFLOP/s "
          f"(before {gemm_before:.1f}, after {gemm_after:.1f})")
    n = record.batch_time.count
    batch_cost, reader_cost = record.batch_time.avg, record.reader_time.avg
    num_seg = cfg.PIPELINE.train.sample.num_seg
    clips_s = args.batch_size / batch_cost
    frames_s = clips_s * num_seg
    gflops = frames_s * RESNET50_GFLOP_PER_FRAME * TRAIN_FLOP_FACTOR
    print(f"TSN ResNet-50 training, {num_seg} segments x 224x224, batch {args.batch_size}, "
          f"{args.workers} loader workers, {n} iterations ({wall:.1f} s wall):")
    print(f"  batch_cost {batch_cost:.3f} s, reader_cost {reader_cost:.4f} s, "
          f"reader_cost / batch_cost = {100 * reader_cost / batch_cost:.1f}% (target < 5%)")
    print(f"  {clips_s:.2f} clips/s, {frames_s:.2f} frames/s, "
          f"{gflops:.1f} GFLOP/s = {100 * gflops / gemm:.0f}% of the GEMM rate "
          f"(target >= 50%; PaddleVideo's defaults: about 11%)")
    best_gflops = gflops * batch_cost / record.batch_time.min
    print(f"  fastest iteration {record.batch_time.min:.3f} s = {100 * best_gflops / gemm:.0f}% of the GEMM rate "
          "(the machine is shared: the gap to the average is other load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
