"""The predict loop shared by tools/predict.py and deploy/paddle2onnx/predict_onnx.py.

files -> (preprocess each, stack ``batch_size`` of them) -> predictor -> softmax/top-k -> printed lines,
with per-stage timing (``--enable_benchmark``), a progress bar for several files, and ``--output_json``.
"""
import os
import sys
import time

import numpy as np

from ..utils.errors import UserError, error_line
from .cli import str2bool
from .cpu_precision import print_bf16_hint
from .device import check_tensorrt, resolve_use_gpu, tensorrt_max_batch_size, tensorrt_shape_ranges
from .errors import InferenceError
from .inputs import collect_videos
from .model_files import check_input_shape
from .model_setup import resolve_model_setup
from .model_yml import ordered_labels
from .view_chunks import DEFAULT_VIEW_CHUNK, check_view_chunk, with_view_chunks
from .postprocess import format_result, load_label_list, postprocess, write_json


def add_predict_args(parser, onnx_only=False):
    """PaddleVideo's predict.py flags (``str2bool`` values: ``--use_gpu False``) plus ours."""
    bool_flag = dict(type=str2bool, nargs="?", const=True, metavar="True|False")
    parser.add_argument("-c", "--config", type=str, default=None,
                        help="config file path; optional when <model>.yml (written by export) is beside the model")
    parser.add_argument("-o", "--override", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. -o INFERENCE.num_seg=8 (repeatable)")
    parser.add_argument("-i", "--input_file", type=str, required=True,
                        help="a video, a folder of videos, or a .txt/.list file of video paths")
    if onnx_only:
        parser.add_argument("--onnx_file", "--model_file", dest="onnx_file", type=str, required=True,
                            help="the .onnx model (tools/export_model.py --onnx)")
    else:
        parser.add_argument("--model_file", type=str, help="exported program: <name>.pdmodel (or .json)")
        parser.add_argument("--params_file", type=str, help="exported weights: <name>.pdiparams")
        parser.add_argument("--onnx_file", type=str, default=None,
                            help="run this .onnx with onnxruntime instead of Paddle Inference")
    parser.add_argument("-b", "--batch_size", type=int, default=1, help="videos per predictor run")
    parser.add_argument("--use_gpu", default=None if not onnx_only else False, **bool_flag,
                        help="default: True when this Paddle has CUDA and sees a GPU")
    parser.add_argument("--precision", type=str, default="fp32", choices=["fp32", "fp16", "int8", "bf16"],
                        help="fp32/fp16/int8: TensorRT (PaddleVideo's); bf16: CPU oneDNN on CPUs with "
                             "AVX512-BF16 or AMX (about 4x faster than fp32 there)")
    parser.add_argument("--view_chunk", type=int, default=DEFAULT_VIEW_CHUNK,
                        help=f"views per model run (default {DEFAULT_VIEW_CHUNK}); the chunk logits are averaged, "
                             "same scores, peak memory bounded by the chunk; 0: all views at once")
    parser.add_argument("--ir_optim", default=True, **bool_flag)
    parser.add_argument("--use_tensorrt", default=False, **bool_flag)
    parser.add_argument("--gpu_mem", type=int, default=8000, help="initial GPU memory pool, MB")
    parser.add_argument("--enable_mkldnn", default=True, **bool_flag,
                        help="oneDNN kernels on CPU (default True: about 2.7x faster than native here)")
    parser.add_argument("--cpu_threads", type=int, default=None, help="default: all usable CPUs")
    parser.add_argument("--enable_benchmark", default=False, **bool_flag,
                        help="print preprocess / inference / postprocess ms per video and videos/s")
    parser.add_argument("--disable_glog", default=False, **bool_flag, help="silence Paddle Inference's log")
    parser.add_argument("--label_list", type=str, default=None,
                        help="'<index> <name>' per line (Kinetics-400_label_list.txt): print class names")
    parser.add_argument("--top_k", type=int, default=None, help="classes printed per video (INFERENCE.top_k, 1)")
    parser.add_argument("--output_json", type=str, default=None, help="write all results to this JSON file")
    return parser


def make_predictor(args, preprocessor):
    """Paddle Inference predictor from ``--model_file/--params_file``, or onnxruntime from ``--onnx_file``."""
    from .predictors import OnnxPredictor, PaddlePredictor
    if getattr(args, "onnx_file", None):  # onnxruntime decides on the GPU itself: no Paddle needed
        if getattr(args, "use_tensorrt", False):
            raise InferenceError("--use_tensorrt applies to Paddle Inference (--model_file), not to --onnx_file")
        if getattr(args, "precision", "fp32") == "bf16":
            raise InferenceError("--precision bf16 applies to Paddle Inference (--model_file), not to --onnx_file")
        return OnnxPredictor(args.onnx_file, cpu_threads=args.cpu_threads, ir_optim=args.ir_optim,
                             use_gpu=args.use_gpu)
    use_gpu = resolve_use_gpu(args.use_gpu)
    check_tensorrt(args.use_tensorrt, use_gpu)
    if not args.model_file or not args.params_file:
        raise InferenceError("pass --model_file <name>.pdmodel and --params_file <name>.pdiparams "
                             "(tools/export_model.py writes them), or --onnx_file <name>.onnx")
    ranges = None
    if args.use_tensorrt:
        from .model_files import check_model_files
        name, declared = check_model_files(args.model_file, args.params_file)[0]
        ranges = tensorrt_shape_ranges(name, declared, preprocessor.input_shape, args.batch_size, args.view_chunk)
    return PaddlePredictor(
        args.model_file, args.params_file, use_gpu=use_gpu, gpu_mem=args.gpu_mem, cpu_threads=args.cpu_threads,
        enable_mkldnn=args.enable_mkldnn, ir_optim=args.ir_optim, precision=args.precision,
        use_tensorrt=args.use_tensorrt, disable_glog=args.disable_glog,
        trt_max_batch_size=tensorrt_max_batch_size(args.batch_size, preprocessor.frames_per_video),
        trt_shape_ranges=ranges)


class StageTimes:
    """Seconds spent per stage, and how many videos went through."""

    def __init__(self):
        self.seconds = {"preprocess": 0.0, "inference": 0.0, "postprocess": 0.0}
        self.videos = 0

    def summary(self, wall: float, what: str) -> str:
        n = max(self.videos, 1)
        per = ", ".join(f"{k}: {v / n * 1000:.1f} ms/video" for k, v in self.seconds.items())
        rate = self.videos / wall if wall > 0 else 0.0
        return (f"[benchmark] {what}: {self.videos} videos after 1 untimed warm-up run; {per}; "
                f"{rate:.3f} videos/s")


class VideoPredictor:
    """Preprocessor + predictor + postprocessing: ``predict(files) -> results``; failures are kept apart."""

    def __init__(self, preprocessor, predictor, top_k=1, label_names=None, batch_size=1, echo=print,
                 program="predict.py", source="the config's INFERENCE section"):
        if batch_size < 1:
            raise InferenceError(f"--batch_size must be at least 1, got {batch_size}")
        self.preprocessor, self.predictor = preprocessor, predictor
        self.top_k, self.label_names, self.batch_size, self.echo = top_k, label_names, batch_size, echo
        self.program = program
        self.times = StageTimes()
        self.failures = []
        self._labels_checked = False
        check_input_shape(predictor.input_shape, preprocessor.input_shape, predictor.source, source)

    def _preprocess(self, files):
        arrays, kept = [], []
        for path in files:
            start = time.perf_counter()
            try:
                arrays.append(self.preprocessor(path))
                kept.append(path)
            except UserError as err:
                self.failures.append({"file": path, "error": " ".join(str(err).split())})
                print(error_line(self.program, err), file=sys.stderr)
            self.times.seconds["preprocess"] += time.perf_counter() - start
        return arrays, kept

    def predict_batch(self, files):
        """Preprocess, run and postprocess ``files`` (at most ``batch_size``); returns their results."""
        arrays, kept = self._preprocess(files)
        if not arrays:
            return []
        batch = np.concatenate(arrays, axis=0)
        del arrays
        release_free_heap()  # the decoded frames and crops: give their memory back before the model runs
        start = time.perf_counter()
        logits = self.predictor.run(batch)
        self.times.seconds["inference"] += time.perf_counter() - start
        start = time.perf_counter()
        if self.label_names is not None and not self._labels_checked:
            ordered_labels(self.label_names, logits.shape[-1], "given")  # names for every class, or stop
            self._labels_checked = True
        results = postprocess(logits, kept, self.top_k, self.label_names)
        for result in results:
            self.echo(format_result(result))
        self.times.seconds["postprocess"] += time.perf_counter() - start
        self.times.videos += len(kept)
        return results

    def predict(self, files, progress=False):
        results = []
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(files), desc="predict", unit="video", file=sys.stderr)
        for first in range(0, len(files), self.batch_size):
            chunk = files[first:first + self.batch_size]
            results += self.predict_batch(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        return results


def run_predict(args, program="predict.py") -> int:
    """The whole predict command; returns the exit status (2 when any video failed)."""
    if args.batch_size < 1:
        raise InferenceError(f"--batch_size must be at least 1, got {args.batch_size}")
    for flag, value in (("--top_k", args.top_k), ("--cpu_threads", args.cpu_threads)):
        if value is not None and value < 1:
            raise InferenceError(f"{flag} must be at least 1, got {value}")
    check_view_chunk(args.view_chunk)
    if args.output_json:
        check_output_file(args.output_json, "--output_json")  # before any video is predicted
    model_file = getattr(args, "onnx_file", None) or getattr(args, "model_file", None)
    setup = resolve_model_setup(args.config, args.override, model_file, program)
    print(f"Inference model({setup.model_name})...")
    preprocessor = setup.preprocessor
    top_k = args.top_k or setup.top_k
    label_names = load_label_list(args.label_list) if args.label_list else setup.label_names
    files = collect_videos(args.input_file)
    predictor = make_predictor(args, preprocessor)
    if predictor.kind == "paddle_inference" and predictor.enable_mkldnn and args.precision == "fp32":
        print_bf16_hint(program)  # stderr: PaddleVideo's stdout lines stay exact
    predictor = with_view_chunks(predictor, args.view_chunk)
    echo = print
    progress = len(files) > 1
    if progress:
        from tqdm import tqdm
        echo = tqdm.write  # keeps the bar on stderr intact
    runner = VideoPredictor(preprocessor, predictor, top_k, label_names, args.batch_size, echo, program,
                            setup.source)
    if args.enable_benchmark:
        _warm_up(runner, files[0])
    start = time.perf_counter()
    results = runner.predict(files, progress=progress)
    wall = time.perf_counter() - start
    if args.enable_benchmark:
        print(runner.times.summary(wall, predictor.describe()))
    if args.output_json:
        extra = {"config": args.config, "preprocessing": setup.source, "predictor": predictor.describe(),
                 "failures": runner.failures}
        if args.enable_benchmark:
            extra["benchmark_ms_per_video"] = {k: v / max(runner.times.videos, 1) * 1000
                                               for k, v in runner.times.seconds.items()}
        try:
            write_json(results, args.output_json, extra)
        except OSError as err:
            print(f"{program}: error: the results above stand, but {args.output_json} was not written: "
                  f"{err.strerror or err}", file=sys.stderr)
            return 2
    if runner.failures:
        print(f"{program}: error: {len(runner.failures)} of {len(files)} videos failed "
              f"(first: {runner.failures[0]['file']})", file=sys.stderr)
        return 2
    return 0


def check_output_file(path: str, flag: str):
    """Refuse an output path that cannot be written (a folder, a place under a file, no permission)
    before the long work starts."""
    if os.path.isdir(path):
        raise InferenceError(f"{flag} {path} is a folder; expected a file name such as "
                             f"{os.path.join(path, 'results.json')}")
    folder = os.path.dirname(os.path.abspath(path))
    existing = folder
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise InferenceError(f"{flag} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise InferenceError(f"{flag} {path}: no permission to write there")


def release_free_heap():
    """Return the C heap's free memory to the OS (glibc ``malloc_trim``; a no-op elsewhere).

    Preprocessing allocates ~250 frame-sized buffers; glibc keeps their freed memory mapped, which
    adds ~150-250 MB to the peak of the model run that follows. Costs well under a millisecond.
    """
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None


def _warm_up(runner, path):
    """One untimed run so the benchmark excludes one-off costs (oneDNN kernel creation, page faults)."""
    try:
        batch = runner.preprocessor(path)
    except UserError:
        return  # the timed run reports it
    batch = np.concatenate([batch] * runner.batch_size, axis=0)
    release_free_heap()
    runner.predictor.run(batch)
