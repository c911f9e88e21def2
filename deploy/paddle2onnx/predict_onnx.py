"""Predict videos with an ONNX export through onnxruntime: PaddleVideo's deploy/paddle2onnx/predict_onnx.py.

    python deploy/paddle2onnx/predict_onnx.py -i data/example.avi --onnx_file inference/TSN/TSN.onnx

Same preprocessing and printed lines as tools/predict.py (``--model_file`` is accepted for the .onnx too,
as in PaddleVideo): built from ``TSN.yml`` beside ``TSN.onnx``, or from ``-c CONFIG`` for an export
without it. Needs ``pip install onnxruntime``, not Paddle.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import paddlevideo  # noqa: E402


def parse_args(argv=None):
    from paddlevideo.inference.runner import add_predict_args
    parser = argparse.ArgumentParser("PaddleVideo ONNX inference script")
    return add_predict_args(parser, onnx_only=True).parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    paddlevideo.setup_runtime()
    from paddlevideo.utils.errors import run_cli
    from paddlevideo.inference.runner import run_predict
    return run_cli("predict_onnx.py", lambda: run_predict(args, "predict_onnx.py"))


if __name__ == "__main__":
    sys.exit(main())
