"""Post-training int8 quantization of an exported TSN: PaddleVideo's deploy/slim/quant_post_static.py.

    python deploy/slim/quant_post_static.py -c configs/recognition/tsn/tsn_k400_frames_quantization.yaml \
        --use_gpu=False [-o KEY=VALUE] [--algo abs_max] [--view_chunk 10]

The config names the export (``inference_model_dir``, ``model_name``), the calibration clips
(``DATASET.quant`` + ``PIPELINE.quant``, ``DATASET.batch_size`` x ``batch_nums``) and the output folder
(``quant_output_dir``), which receives ``<model_name>.pdmodel`` / ``.pdiparams`` and a copy of
``<model_name>.yml`` saying ``quantized: int8``. Run it with ``tools/predict.py --precision int8``.
"""
import argparse
import os
import sys

# Paddle's PostTrainingQuantization needs the classic program API; must precede `import paddle`. When
# Paddle is already imported (this file loaded as a module), the quantizer switches IR with a guard.
if "paddle" not in sys.modules:
    os.environ["FLAGS_enable_pir_api"] = "0"

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from paddlevideo.slim import ALGOS, DEFAULT_ALGO, DEFAULT_VIEW_CHUNK  # noqa: E402  (imports no Paddle)
from paddlevideo.utils.flags import str2bool  # noqa: E402

PROGRAM = "quant_post_static.py"


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser("PaddleVideo Inference model script",
                                     description="Post-training int8 quantization of an exported TSN.")
    parser.add_argument("-c", "--config", type=str, required=True, help="quantization config file path")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="config option to override (repeatable)")
    parser.add_argument("--use_gpu", type=str2bool, default=True, metavar="True|False",
                        help="calibrate on the GPU (a CPU-only Paddle warns and uses the CPU)")
    parser.add_argument("--algo", choices=ALGOS, default=DEFAULT_ALGO,
                        help=f"activation calibration (weights: channel-wise abs-max); default {DEFAULT_ALGO}; "
                             "PaddleVideo's KL took 22 min for ResNet-50 here (docs/quantization.md)")
    parser.add_argument("--view_chunk", type=_positive, default=DEFAULT_VIEW_CHUNK,
                        help="views per calibration feed: peak memory grows with it (ResNet-50: ~130 MB a view)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from paddlevideo.utils.runtime import run_paddle_tool

    def work():
        from paddlevideo.slim import quant_settings, quantize
        from paddlevideo.utils.config import get_config
        cfg = get_config(args.config, overrides=args.override, show=False)
        settings = quant_settings(cfg, args.config)
        result = quantize(settings, algo=args.algo, view_chunk=args.view_chunk, use_gpu=args.use_gpu)
        for path in result.files:
            print(f"wrote {path}")
        print(f"int8 model ({settings.model_name}, {result.algo} on {result.views} views in {result.feeds} "
              f"feeds, {result.seconds:.0f} s) saved in {settings.quant_output_dir}; run it with "
              f"tools/predict.py --precision int8")
    return run_paddle_tool(PROGRAM, work)


if __name__ == "__main__":
    sys.exit(main())
