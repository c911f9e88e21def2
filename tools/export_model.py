"""Export a trained TSN for Paddle Inference (and ONNX): PaddleVideo's tools/export_model.py.

    python tools/export_model.py -c configs/recognition/tsn/tsn_k400_frames.yaml \
        -p output/TSN/TSN_best.pdparams -o inference/TSN [--save_name TSN] [--format json] [--onnx] \
        [--label_list Kinetics-400_label_list.txt]

Writes ``<OUT_DIR>/<name>.pdmodel`` + ``.pdiparams`` (classic program format, loaded by Paddle
Inference 2.x and 3.x) and ``<name>.yml`` (input shape, classes, preprocessing ops, class names);
``--format json`` adds the PIR ``<name>.json``; ``--onnx`` adds ``<name>.onnx``.
"""
import argparse
import os
import sys

# Classic .pdmodel by default on Paddle 3 (PIR would write .json); must precede `import paddle`.
# When Paddle is already imported (this file loaded as a module) the variable could only leak into
# the importing process, so it is left alone; the export itself switches IR with a guard.
if "paddle" not in sys.modules:
    os.environ.setdefault("FLAGS_enable_pir_api", "0")
    # Paddle's C++ log lines while tracing ("New Executor is Running.", a PIR "not support input out
    # tensor" warning) say nothing a user can act on; its errors still show. A value you set is kept.
    os.environ.setdefault("GLOG_minloglevel", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)



def parse_args(argv=None):
    parser = argparse.ArgumentParser("PaddleVideo export model script")
    parser.add_argument("-c", "--config", type=str, required=True, help="config file path")
    parser.add_argument("-p", "--pretrained_params", type=str, required=True,
                        help="trained weights (.pdparams) to export: a path, or an http(s) URL downloaded once "
                             "into a cache (docs/weights.md)")
    parser.add_argument("-o", "--output_path", type=str, default="./inference", help="output folder")
    parser.add_argument("--save_name", type=str, default=None,
                        help="file name without extension (default: the config's model_name)")
    parser.add_argument("--override", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. --override INFERENCE.num_seg=8 (repeatable)")
    parser.add_argument("--format", choices=["pdmodel", "json"], default="pdmodel",
                        help="pdmodel: classic .pdmodel + .pdiparams; json: also the PIR .json program")
    parser.add_argument("--onnx", action="store_true", help="also write <name>.onnx with paddle2onnx")
    parser.add_argument("--opset_version", type=int, default=11, help="ONNX opset for --onnx")
    parser.add_argument("--label_list", type=str, default=None,
                        help="'<index> <name>' per line (Kinetics-400_label_list.txt): class names for <name>.yml")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from paddlevideo.utils.runtime import run_paddle_tool

    def work():
        from paddlevideo.inference.export import check_opset, export_model
        from paddlevideo.utils.config import get_config
        if args.onnx:
            check_opset(args.opset_version)  # before the config, the model and the trace
        cfg = get_config(args.config, overrides=args.override, show=False, mode="export")
        formats = ("pdmodel", "json") if args.format == "json" else ("pdmodel",)
        print(f"Building model({cfg.get('model_name')})...")
        result = export_model(cfg, args.pretrained_params, args.output_path, args.save_name,
                              formats=formats, onnx=args.onnx, opset_version=args.opset_version,
                              label_list=args.label_list, inputs={"-c": args.config})
        shape = ["None" if d is None else d for d in result["input_shape"]]
        print(f"input spec: InputSpec(shape=[{', '.join(map(str, shape))}], dtype='float32')")
        for path in result["files"]:
            print(f"wrote {path}")
        for path in result["removed"]:
            print(f"removed {path} (left by an earlier export, not part of this one)")
        print(f"model ({result['name']}) has been already saved in ({args.output_path}).")
    return run_paddle_tool("export_model.py", work)


if __name__ == "__main__":
    sys.exit(main())
