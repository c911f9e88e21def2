"""``Predictor``: the Python API, and the predict loop that tools/predict.py and predict_onnx.py run.

    from paddlevideo import Predictor
    predictor = Predictor("inference/TSN")               # the export folder; or model_file=..., params_file=...
    result = predictor.predict("data/example.avi")       # {"file": ..., "top_k": [{"class", "score", "label"}]}

Every argument is checked once, here at the edge, into ``PredictOptions`` (frozen); the parts inside take
those typed values. files -> preprocess each (``preprocess.py``), stack ``batch_size`` of them -> backend
(``predictors.py``) -> softmax/top-k -> result dicts, with per-stage timing.
"""
import argparse
import json
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from ..utils.atomic import atomic_write
from ..utils.flags import str2bool
from ..utils.errors import UserError, error_line
from ..utils.paths import refuse_output_over_inputs
from .model import NO_MODEL_FILES, InferenceError, load_label_list, ordered_labels, resolve_model_setup, yml_path
from .predictors import DEFAULT_VIEW_CHUNK, PRECISIONS, check_input_shape, with_view_chunks
from .preprocess import VideoReadError, collect_inputs, preprocessor_of


# ---------------------------------------------------------------- options, checked once
def max_cpu_threads() -> int:
    """More threads than 4 per CPU only slows a run; far more makes Paddle abort."""
    return min(1024, 4 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class PredictOptions:
    """Every choice of a predict run, checked (``PredictOptions.checked``) before any file is opened."""
    model_file: str = None
    params_file: str = None
    onnx_file: str = None
    config: str = None
    overrides: tuple = ()
    precision: str = "fp32"
    view_chunk: int = DEFAULT_VIEW_CHUNK
    top_k: int = None
    use_gpu: bool = None
    cpu_threads: int = None
    label_list: str = None
    enable_mkldnn: bool = True
    ir_optim: bool = True
    use_tensorrt: bool = False
    gpu_mem: int = 8000
    batch_size: int = 1
    disable_glog: bool = True
    use_xpu: bool = False
    use_npu: bool = False

    @classmethod
    def checked(cls, **kwargs) -> "PredictOptions":
        """The options, or an ``InferenceError`` naming the first bad flag and what it takes."""
        options = cls(**kwargs)
        options.check()
        return options

    def check(self):
        def count(flag, value, low, high=None, optional=True):
            if value is None and optional:
                return
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InferenceError(f"{flag} must be at least {low}, got {value}")
            if high is not None and value > high:
                raise InferenceError(f"{flag} must be at most {high}, got {value}")

        count("--batch_size", self.batch_size, 1, optional=False)
        count("--top_k", self.top_k, 1)
        count("--cpu_threads", self.cpu_threads, 1, max_cpu_threads())
        count("--gpu_mem", self.gpu_mem, 1, optional=False)
        if not isinstance(self.view_chunk, int) or isinstance(self.view_chunk, bool) or self.view_chunk < 0:
            raise InferenceError(f"--view_chunk must be 0 (all views at once) or a positive number, "
                                 f"got {self.view_chunk}")
        if self.precision not in PRECISIONS:
            raise InferenceError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for flag in ("enable_mkldnn", "ir_optim", "use_tensorrt", "disable_glog", "use_xpu", "use_npu"):
            if not isinstance(getattr(self, flag), bool):
                raise InferenceError(f"--{flag} must be True or False, got {getattr(self, flag)!r}")
        if self.use_gpu not in (None, True, False):
            raise InferenceError(f"--use_gpu must be True, False or None (GPU when there is one), got {self.use_gpu!r}")
        if self.onnx_file:
            for flag, wrong in (("--use_tensorrt", self.use_tensorrt), ("--use_xpu", self.use_xpu),
                                ("--use_npu", self.use_npu), ("--precision bf16", self.precision == "bf16"),
                                ("--precision int8", self.precision == "int8")):
                if wrong:
                    raise InferenceError(f"{flag} applies to Paddle Inference (--model_file), not to --onnx_file")
        elif not (self.model_file and self.params_file) and (self.config is not None or self.model_file):
            raise InferenceError(NO_MODEL_FILES)


def export_folder_files(folder: str) -> dict:
    """``Predictor("inference/TSN")``: the folder's ``<name>.pdmodel`` + ``.pdiparams`` (or its ``.onnx``)."""
    if os.path.isfile(folder):
        key = "onnx_file" if folder.endswith(".onnx") else "model_file"
        files = {key: folder}
        if key == "model_file":
            files["params_file"] = os.path.splitext(folder)[0] + ".pdiparams"
        return files
    if not os.path.isdir(folder):
        raise InferenceError(f"model folder not found: {folder} (expected the folder tools/export_model.py wrote)")
    names = sorted(os.listdir(folder))
    for suffix, key in ((".pdmodel", "model_file"), (".json", "model_file"), (".onnx", "onnx_file")):
        found = [n for n in names if n.endswith(suffix) and not n.endswith(".pdiparams" + suffix)]
        if suffix == ".json":
            found = [n for n in found if os.path.splitext(n)[0] + ".pdiparams" in names]
        if len(found) > 1:
            raise InferenceError(f"{folder} holds {len(found)} models ({', '.join(found)}): pass model_file=...")
        if found:
            path = os.path.join(folder, found[0])
            files = {key: path}
            if key == "model_file":
                files["params_file"] = os.path.splitext(path)[0] + ".pdiparams"
            return files
    raise InferenceError(f"{folder} holds no exported model (<name>.pdmodel + .pdiparams, or <name>.onnx)")


# ---------------------------------------------------------------- logits -> results
def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``[N, C]`` logits -> float32 ``[N, C]`` (numpy, the same wherever it runs)."""
    logits = np.asarray(logits, dtype=np.float32)
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def merge_views(logits: np.ndarray, num_files: int) -> np.ndarray:
    """``[B, C]`` -> ``[num_files, C]``: when a graph returns several rows per file, average them (PaddleVideo)."""
    logits = np.asarray(logits)
    if logits.ndim == 1:
        logits = logits[None]
    if logits.shape[0] != num_files:
        if logits.shape[0] % num_files:
            raise InferenceError(f"the model returned {logits.shape[0]} rows for {num_files} videos")
        logits = logits.reshape([num_files, logits.shape[0] // num_files] + list(logits.shape[1:])).mean(axis=1)
    return logits


def postprocess(logits, files, top_k: int = 1, label_names=None):
    """``logits [B, C]`` for ``files`` -> one result per file, best first:
    ``{"file": path, "top_k": [{"class": int, "score": float, "label": str or None}, ...]}``."""
    probs = softmax(merge_views(logits, len(files)))
    top_k = max(1, min(int(top_k), probs.shape[1]))
    results = []
    for path, row in zip(files, probs):
        classes = np.argsort(-row, kind="stable")[:top_k]
        results.append({"file": path, "top_k": [
            {"class": int(c), "score": float(row[c]),
             "label": label_names.get(int(c)) if label_names is not None else None} for c in classes]})
    return results


def format_result(result: dict) -> str:
    """PaddleVideo's lines for one file (``Current video file: ...`` then tab + ``top-j class/score``).

    With class names a ``top-j name: archery`` line follows each class/score pair, so PaddleVideo's
    own lines stay exactly as they are for scripts that parse them."""
    lines = [f"Current video file: {result['file']}"]
    for j, entry in enumerate(result["top_k"], 1):
        lines.append(f"\ttop-{j} class: {entry['class']}")
        lines.append(f"\ttop-{j} score: {entry['score']}")
        if entry.get("label"):
            lines.append(f"\ttop-{j} name: {entry['label']}")
    return "\n".join(lines)


def write_json(results, path: str, extra=None):
    """Write ``{"results": [...], **extra}`` to ``path`` (UTF-8, indented); folders are created."""
    payload = {"results": results, **(extra or {})}
    with atomic_write(path) as (f, _):
        json.dump(payload, f, indent=2, ensure_ascii=False)
    return path


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

    def ms_per_video(self) -> dict:
        return {k: v / max(self.videos, 1) * 1000 for k, v in self.seconds.items()}


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


# ---------------------------------------------------------------- the API
def make_backend(options: PredictOptions, preprocessor, setup, program: str, warn):
    """Paddle Inference from ``model_file``/``params_file``, or onnxruntime from ``onnx_file``."""
    from .predictors import OnnxPredictor, PaddlePredictor, bf16_hint, bf16_slow_notice
    if options.onnx_file:  # onnxruntime decides on the GPU itself: no Paddle needed
        return OnnxPredictor(options.onnx_file, cpu_threads=options.cpu_threads, ir_optim=options.ir_optim,
                             use_gpu=options.use_gpu)
    from .predictors import resolve_use_gpu
    # PaddleVideo's order: the GPU, else an NPU, else an XPU, else the CPU.
    accelerator = "npu" if options.use_npu else "xpu" if options.use_xpu else None
    use_gpu = resolve_use_gpu(options.use_gpu) if options.use_gpu or not accelerator else False
    backend = PaddlePredictor(
        options.model_file, options.params_file, use_gpu=use_gpu, gpu_mem=options.gpu_mem, accelerator=accelerator,
        cpu_threads=options.cpu_threads, enable_mkldnn=options.enable_mkldnn, ir_optim=options.ir_optim,
        precision=options.precision, use_tensorrt=options.use_tensorrt, disable_glog=options.disable_glog,
        video_shape=preprocessor.input_shape, batch_size=options.batch_size, view_chunk=options.view_chunk,
        quantized=setup.quantized == "int8")
    if options.precision == "fp32" and (setup.quantized == "int8" or backend.program.quantized):
        warn(f"{program}: hint: {options.model_file} is quantized (int8): pass --precision int8 to run it "
             "with oneDNN's int8 kernels (running it as fp32 now)")
    hint = None
    if backend.enable_mkldnn and options.precision == "fp32":
        hint = bf16_hint(program)
    elif backend.enable_mkldnn and options.precision == "bf16":
        hint = bf16_slow_notice(program)
    if hint:
        warn(hint)  # stderr: PaddleVideo's stdout lines stay exact
    return backend


class Predictor:
    """Classify videos with an exported TSN: ``Predictor(folder).predict(path) -> result``.

    ``model_dir``: the folder ``tools/export_model.py`` wrote (or its ``.pdmodel``/``.onnx``); or give
    ``model_file`` + ``params_file`` / ``onnx_file``. Keywords match ``tools/predict.py``'s flags. Bad
    input raises a ``UserError`` subclass with one line; an unreadable video raises ``VideoReadError``,
    and the instance stays usable. Not thread-safe: serialize ``predict`` calls.
    """

    def __init__(self, model_dir=None, *, options: PredictOptions = None, program="paddlevideo", warn=None,
                 **kwargs):
        if options is None:  # tools/predict.py passes the options it has already checked
            if model_dir is not None:
                if kwargs.get("model_file") or kwargs.get("onnx_file"):
                    raise InferenceError("give the export folder or model_file/onnx_file, not both")
                kwargs.update(export_folder_files(os.fspath(model_dir)))
            if "overrides" in kwargs:
                kwargs["overrides"] = tuple(kwargs["overrides"] or ())
            options = PredictOptions.checked(**kwargs)
        self.options = options
        self.program = program
        warn = warn or (lambda line: print(line, file=sys.stderr, flush=True))
        self.setup = setup = resolve_model_setup(options.config, options.overrides,
                                                 options.onnx_file or options.model_file, program, warn)
        self.preprocessor = preprocessor_of(setup)
        self.top_k = options.top_k or setup.top_k
        self.label_names = load_label_list(options.label_list) if options.label_list else setup.label_names
        self.label_source = options.label_list or setup.yml
        self.num_classes, self._labels_checked = None, False
        if setup.num_classes:  # known from X.yml: check the class names before the model loads
            self._check_labels(setup.num_classes)
        backend = make_backend(options, self.preprocessor, setup, program, warn)
        check_input_shape(backend.input_shape, self.preprocessor.input_shape, backend.source, setup.source)
        self.backend = with_view_chunks(backend, options.view_chunk)
        if backend.num_classes and not self._labels_checked:  # known from the program's output
            self._check_labels(backend.num_classes)
        self.times = StageTimes()

    def _check_labels(self, num_classes: int):
        """Names for every class of the model, or one error naming the label file; runs once."""
        if self.label_names is not None:
            ordered_labels(self.label_names, num_classes, self.label_source)
        self.num_classes, self._labels_checked = num_classes, True

    @property
    def info(self) -> dict:
        """What the model is: name, classes (None until known), precision, views per video, input shape."""
        return {"model_name": self.setup.model_name, "num_classes": self.num_classes,
                "precision": self.options.precision, "views_per_video": self.preprocessor.frames_per_video,
                "input_shape": list(self.preprocessor.input_shape), "top_k": self.top_k,
                "labels": self.label_names is not None}

    def describe(self) -> str:
        return self.backend.describe()

    def _check_top_k(self, top_k):
        if top_k is None:
            return self.top_k
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise InferenceError(f"top_k must be at least 1, got {top_k}")
        return top_k

    def predict(self, videos, top_k=None):
        """A path -> its result; a list of paths -> a list of results (``top_k``: this call only)."""
        single = isinstance(videos, (str, os.PathLike))
        files = [os.fspath(videos)] if single else [os.fspath(v) for v in videos]
        results = list(self.iter_results(files, top_k))
        return results[0] if single else results

    def iter_results(self, files, top_k=None, on_failure=None):
        """Yield the result of each of ``files`` (``batch_size`` per model run). A video that cannot be
        read raises ``VideoReadError``, or, with ``on_failure(path, err)``, is reported there and skipped."""
        top_k = self._check_top_k(top_k)
        batch_size = self.options.batch_size
        for first in range(0, len(files), batch_size):
            yield from self._predict_batch(files[first:first + batch_size], top_k, on_failure)

    def _predict_batch(self, files, top_k, on_failure):
        arrays, kept = [], []
        for path in files:
            start = time.perf_counter()
            try:
                arrays.append(self.preprocessor(path))
                kept.append(path)
            except VideoReadError as err:
                if on_failure is None:
                    raise
                on_failure(path, err)
            finally:
                self.times.seconds["preprocess"] += time.perf_counter() - start
        if not arrays:
            return []
        batch = np.concatenate(arrays, axis=0)
        del arrays
        release_free_heap()  # the decoded frames and crops: give their memory back before the model runs
        start = time.perf_counter()
        logits = self.backend.run(batch)
        self.times.seconds["inference"] += time.perf_counter() - start
        start = time.perf_counter()
        if not self._labels_checked:  # a model whose files leave the class count open
            self._check_labels(logits.shape[-1])
        results = postprocess(logits, kept, top_k, self.label_names)
        self.times.seconds["postprocess"] += time.perf_counter() - start
        self.times.videos += len(kept)
        return results

    def warm_up(self, path):
        """One untimed run so a benchmark excludes one-off costs (oneDNN kernel creation, page faults)."""
        try:
            batch = self.preprocessor(path)
        except UserError:
            return  # the timed run reports it
        batch = np.concatenate([batch] * self.options.batch_size, axis=0)
        release_free_heap()
        self.backend.run(batch)


# ---------------------------------------------------------------- the command line
def add_predict_args(parser, onnx_only=False):
    """PaddleVideo's predict.py flags (``str2bool`` values: ``--use_gpu False``) plus ours."""
    bool_flag = dict(type=str2bool, nargs="?", const=True, metavar="True|False")
    parser.add_argument("-c", "--config", type=str, default=None,
                        help="config file path; optional when <model>.yml (written by export) is beside the model")
    parser.add_argument("-o", "--override", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. -o INFERENCE.num_seg=8 (repeatable)")
    parser.add_argument("-i", "--input_file", type=str, required=True,
                        help="a video; a folder (a dataset root of class folders is walked); or a .txt/.list "
                             "file of '<video path> [label]' lines (with labels: top-1 accuracy at the end)")
    parser.add_argument("--data_prefix", type=str, default=None,
                        help="folder the relative paths of a list file are joined to (DATASET.*.data_prefix)")
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
    parser.add_argument("--use_xpu", default=False, **bool_flag, help="Kunlun XPU (a Paddle built for it)")
    parser.add_argument("--use_npu", default=False, **bool_flag, help="Ascend NPU (Paddle's NPU plug-in)")
    parser.add_argument("--time_test_file", default=False, **bool_flag,
                        help="-i is a text file of video paths, one per line, whatever its name (PaddleVideo's "
                             "benchmark input)")
    parser.add_argument("--precision", type=str, default="fp32", choices=list(PRECISIONS),
                        help="fp32/fp16/int8: TensorRT on the GPU (PaddleVideo's); on CPU, int8 runs a model "
                             "quantized by deploy/slim/quant_post_static.py with oneDNN int8, and bf16 runs oneDNN "
                             "bfloat16 on CPUs with AVX512-BF16 (about 4x faster than fp32 with AMX-BF16, 1.6-2x on "
                             "an AMD EPYC Zen 4, slower on an Intel Xeon without AMX; "
                             "benchmarks/bench_predict.py --precision-check measures yours)")
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
    parser.add_argument("--disable_glog", default=True, **bool_flag,
                        help="silence Paddle Inference's log (default True; False shows it)")
    parser.add_argument("--label_list", type=str, default=None,
                        help="'<index> <name>' per line (Kinetics-400_label_list.txt): print class names")
    parser.add_argument("--top_k", type=int, default=None, help="classes printed per video (INFERENCE.top_k, 1)")
    parser.add_argument("--output_json", type=str, default=None, help="write all results to this JSON file")
    return parser


def options_from_args(args) -> dict:
    """The ``Predictor`` keywords of parsed flags."""
    return dict(model_file=getattr(args, "model_file", None), params_file=getattr(args, "params_file", None),
                onnx_file=args.onnx_file, config=args.config, overrides=tuple(args.override),
                precision=args.precision, view_chunk=args.view_chunk, top_k=args.top_k, use_gpu=args.use_gpu,
                cpu_threads=args.cpu_threads, label_list=args.label_list, enable_mkldnn=args.enable_mkldnn,
                ir_optim=args.ir_optim, use_tensorrt=getattr(args, "use_tensorrt", False), gpu_mem=args.gpu_mem,
                batch_size=args.batch_size, disable_glog=args.disable_glog, use_xpu=args.use_xpu,
                use_npu=args.use_npu)


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


def accuracy_line(results, label_of: dict, failed: int) -> str:
    """``top-1 accuracy: 0.7500 (3 of 4 videos)`` over the predicted videos of a labelled list."""
    correct = sum(result["top_k"][0]["class"] == label_of[result["file"]] for result in results)
    total = len(results)
    skipped = f"; {failed} failed, not counted" if failed else ""
    return f"top-1 accuracy: {correct / max(total, 1):.4f} ({correct} of {total} videos{skipped})"


def run_predict(args, program="predict.py") -> int:
    """The whole predict command over ``Predictor``; returns the exit status (2 when any video failed)."""
    from ..utils.stop_signals import GracefulStop
    options = PredictOptions.checked(**options_from_args(args))  # flags first, before any file is read
    if args.output_json:
        check_output_file(args.output_json, "--output_json")  # before any video is predicted
    files, labels = collect_inputs(args.input_file, args.data_prefix, as_list=args.time_test_file)
    if args.output_json:
        model = options.onnx_file or options.model_file
        refuse_output_over_inputs(args.output_json, {
            "-i/--input_file": [args.input_file] + files, "--model_file": options.model_file,
            "--params_file": options.params_file, "--onnx_file": options.onnx_file,
            "the model description": yml_path(model) if model else None, "-c/--config": options.config,
            "--label_list": options.label_list})
    # SIGTERM/Ctrl-C stop between batches with one line (Paddle's own handler would print a C++ dump)
    with GracefulStop() as stop:
        return _predict_files(options, files, labels, program, stop, output_json=args.output_json,
                              benchmark=args.enable_benchmark)


def _predict_files(options, files, labels, program, stop, output_json=None, benchmark=False) -> int:
    """Print each video's result as it comes; write ``output_json``; returns the exit status."""
    from ..utils.stop_signals import StopRequested
    predictor = Predictor(options=options, program=program)
    print(f"Inference model({predictor.setup.model_name})...")
    failures = []
    progress = len(files) > 1 and sys.stderr.isatty()  # a bar in a log file is noise
    bar, echo = None, print
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(files), desc="predict", unit="video", file=sys.stderr)
        echo = tqdm.write  # keeps the bar intact

    def on_failure(path, err):
        failures.append({"file": path, "error": " ".join(str(err).split())})
        print(error_line(program, err), file=sys.stderr)
        if bar is not None:
            bar.update(1)

    def stop_if_asked():
        if stop.requested():
            if bar is not None:
                bar.close()
            raise StopRequested(stop.signum, f"stopped by {stop.signal_name} after {len(results)} of {len(files)} "
                                             "videos (their results are above; --output_json was not written)")

    results = []
    stop_if_asked()  # a signal while the model was loading
    if benchmark:
        predictor.warm_up(files[0])
    start = time.perf_counter()
    for result in predictor.iter_results(files, on_failure=on_failure):
        results.append(result)
        echo(format_result(result))
        if bar is not None:
            bar.update(1)
        stop_if_asked()
    wall = time.perf_counter() - start
    if bar is not None:
        bar.close()
    if benchmark:
        print(predictor.times.summary(wall, predictor.describe()))
    if output_json:
        extra = {"config": options.config, "preprocessing": predictor.setup.source, "predictor": predictor.describe(),
                 "failures": failures}
        if benchmark:
            extra["benchmark_ms_per_video"] = predictor.times.ms_per_video()
        try:
            write_json(results, output_json, extra)
        except OSError as err:
            print(f"{program}: error: the results above stand, but {output_json} was not written: "
                  f"{err.strerror or err}", file=sys.stderr)
            return 2
    if labels is not None:
        print(accuracy_line(results, dict(zip(files, labels)), len(failures)))
    if failures:
        print(f"{program}: error: {len(failures)} of {len(files)} videos failed "
              f"(first: {failures[0]['file']})", file=sys.stderr)
        return 2
    return 0


def main(argv=None, program="predict.py", onnx_only=False) -> int:
    """Parse the flags and run ``run_predict`` under ``run_cli`` (one line and exit 2 on bad input)."""
    from ..utils.errors import run_cli
    title = "PaddleVideo ONNX inference script" if onnx_only else "PaddleVideo Inference model script"
    args = add_predict_args(argparse.ArgumentParser(title), onnx_only=onnx_only).parse_args(argv)
    return run_cli(program, lambda: run_predict(args, program))
