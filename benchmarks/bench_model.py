"""ResNet-50 TSN model throughput on this CPU, beside the machine's fp32 GEMM rate.

Forward (eval, no grad) and training step (forward + backward + Momentum update) frames/s at
224x224, the GFLOP/s they achieve (8.22 GFLOP per frame forward, 3x that for a training step) and
that rate as a share of numpy's 2048x2048 fp32 GEMM measured in the same run. Run it alone:

    python benchmarks/bench_model.py [--layouts NCHW,NHWC] [--static]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import RESNET50_GFLOP_PER_FRAME, machine_line, measure_gemm_gflops, time_best  # noqa: E402

import numpy as np  # noqa: E402
import paddle  # noqa: E402

from paddlevideo.modeling import build_model  # noqa: E402

TRAIN_COST = 3.0  # a training step costs about 3x the forward FLOPs


def tsn_r50(data_format: str):
    """ResNet-50 + 400-class TSNHead, random init, backbone layout ``data_format``."""
    return build_model({"framework": "Recognizer2D",
                        "backbone": {"name": "ResNet", "depth": 50, "pretrained": "", "data_format": data_format},
                        "head": {"name": "TSNHead", "num_classes": 400, "in_channels": 2048}})


def forward_runner(model, frames: int):
    """One clip of ``frames`` segments through the eval model: ``[1, frames, 3, 224, 224]``."""
    imgs = paddle.randn([1, frames, 3, 224, 224])
    model.eval()

    def run():
        with paddle.no_grad():
            model([imgs], "infer").numpy()
    return run


def train_runner(model, frames: int):
    """A TSN training step on ``frames // 3`` clips of 3 segments, Momentum(0.9) update."""
    clips = max(1, frames // 3)
    imgs = paddle.randn([clips, 3, 3, 224, 224])
    labels = paddle.to_tensor(np.arange(clips, dtype="int64").reshape(-1, 1))
    opt = paddle.optimizer.Momentum(learning_rate=0.001, momentum=0.9, parameters=model.parameters())
    model.train()

    def step():
        loss = model([imgs, labels], "train")["loss"]
        loss.backward()
        opt.step()
        opt.clear_grad()
        float(loss)
    return step, clips * 3


def report(label: str, frames: int, seconds: float, cost: float, gemm: float) -> str:
    """One result line: frames/s, achieved GFLOP/s and its share of the GEMM rate ``gemm``."""
    fps = frames / seconds
    gflops = fps * RESNET50_GFLOP_PER_FRAME * cost
    return f"{label:<46s} {fps:6.2f} frames/s  {gflops:6.1f} GFLOP/s  {100 * gflops / gemm:4.0f}% of GEMM"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layouts", default="NCHW,NHWC", help="backbone data_format values to time")
    parser.add_argument("--frames", type=int, default=12, help="frames per forward / training step")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many timed runs")
    parser.add_argument("--static", action="store_true", help="also time paddle.jit.to_static forward/train")
    args = parser.parse_args(argv)
    layouts = [s.strip() for s in args.layouts.split(",") if s.strip()]

    print(machine_line())
    print(f"Paddle {paddle.__version__}, ResNet-50 TSN at 224x224, {args.frames} frames per call, "
          f"best of {args.repeats}")
    # The machine is shared: GEMM is measured before and after each layout, and the shares use the
    # best of those figures (a GEMM measured during someone else's burst would flatter the model).
    gemms = [measure_gemm_gflops()]
    print(f"fp32 GEMM (numpy 2048x2048), first: {gemms[0]:.1f} GFLOP/s", flush=True)

    results, outputs = [], {}  # (label, frames, seconds, cost)

    def timed(label, fn, frames, cost):
        results.append((label, frames, time_best(fn, repeats=args.repeats), cost))
        print(report(*results[-1], gemms[0]), "(provisional share)", flush=True)

    for layout in layouts:
        paddle.seed(0)
        model = tsn_r50(layout)
        timed(f"forward, eval, dygraph, {layout}", forward_runner(model, args.frames), args.frames, 1.0)
        model.eval()
        probe = paddle.to_tensor(np.random.default_rng(0).standard_normal((1, 3, 3, 224, 224), dtype=np.float32))
        with paddle.no_grad():
            outputs[layout] = model([probe], "infer").numpy()
        if args.static:
            static = paddle.jit.to_static(model, full_graph=True)
            timed(f"forward, eval, to_static, {layout}", forward_runner(static, args.frames), args.frames, 1.0)
        step, frames = train_runner(model, args.frames)
        timed(f"train step (fwd+bwd+Momentum), dygraph, {layout}", step, frames, TRAIN_COST)
        if args.static:
            step, frames = train_runner(paddle.jit.to_static(model, full_graph=True), args.frames)
            timed(f"train step, to_static, {layout}", step, frames, TRAIN_COST)
        gemms.append(measure_gemm_gflops())
    for layout, out in outputs.items():
        if layout != "NCHW" and "NCHW" in outputs:
            diff = float(np.abs(out - outputs["NCHW"]).max())
            print(f"max |{layout} - NCHW| on the logits: {diff:.2e} ({'ok' if diff <= 1e-4 else 'MISMATCH'})")
    gemm = max(gemms)
    print(f"fp32 GEMM measured {len(gemms)}x: {', '.join(f'{g:.1f}' for g in gemms)} GFLOP/s; "
          f"shares below use the best, {gemm:.1f}")
    for result in results:
        print(report(*result, gemm))


if __name__ == "__main__":
    main()
