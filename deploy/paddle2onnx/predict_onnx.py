"""Predict videos with an ONNX export through onnxruntime: PaddleVideo's deploy/paddle2onnx/predict_onnx.py.

    python deploy/paddle2onnx/predict_onnx.py -i data/example.avi --onnx_file inference/TSN/TSN.onnx

Same preprocessing and printed lines as tools/predict.py (``--model_file`` is accepted for the .onnx too,
as in PaddleVideo): built from ``TSN.yml`` beside ``TSN.onnx``, or from ``-c CONFIG`` for an export
without it. Needs ``pip install onnxruntime``, not Paddle.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import paddlevideo  # noqa: E402


def main(argv=None):
    """``predict_onnx.py ARGS``: ``paddlevideo.Predictor`` on onnxruntime; Paddle is never imported."""
    paddlevideo.setup_runtime()
    from paddlevideo.inference.api import main as predict_main
    return predict_main(argv, "predict_onnx.py", onnx_only=True)


if __name__ == "__main__":
    sys.exit(main())
