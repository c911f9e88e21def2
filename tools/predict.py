"""Predict videos with an exported TSN: PaddleVideo's tools/predict.py.

    python tools/predict.py -c configs/recognition/tsn/tsn_k400_frames.yaml -i data/example.avi \
        --model_file inference/TSN/TSN.pdmodel --params_file inference/TSN/TSN.pdiparams --use_gpu False

``-c`` is optional for a model exported with its ``TSN.yml`` (the preprocessing is built from it; a
config that disagrees gets one warning line and the .yml is used). ``-i`` also takes a folder or a
.txt list of videos; ``--onnx_file X.onnx`` runs onnxruntime instead.
Prints per video ``Current video file: ...`` then tab + ``top-1 class: N`` and tab + ``top-1 score: X``.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)



def main(argv=None):
    """``tools/predict.py ARGS``: a thin layer over ``paddlevideo.Predictor``; returns the exit status."""
    from paddlevideo.utils.runtime import run_paddle_tool

    def work():
        from paddlevideo.inference.api import main as predict_main
        return predict_main(argv, "predict.py")  # its own run_cli: bad flags and inputs are one line
    return run_paddle_tool("predict.py", work)


if __name__ == "__main__":
    sys.exit(main())
