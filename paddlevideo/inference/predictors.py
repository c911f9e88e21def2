"""Predictors: one ``run(batch) -> logits`` interface over Paddle Inference, onnxruntime and dygraph.

``batch``: float32 ``[N, views, 3, H, W]``; result: float32 logits ``[N, classes]``.
"""
import logging
import contextlib
import os
import sys

import numpy as np

from ..utils.runtime import usable_cpus
from .cpu_precision import check_cpu_bf16
from .device import check_precision, check_tensorrt, tensorrt_precision
from .errors import InferenceError, UnsupportedDeviceError, require_module
from .model_files import check_model_files

logger = logging.getLogger(__name__)


class Predictor:
    """Base: ``input_shape`` is the declared input (``None``/-1 for free dims) or ``None`` when unknown."""

    kind = "predictor"
    input_shape = None
    source = "the model"  # the file it runs, for messages

    def run(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        return self.kind


class PaddlePredictor(Predictor):
    """Paddle Inference (``paddle.inference``) on an exported ``.pdmodel``/``.json`` + ``.pdiparams``.

    CPU: ``disable_gpu``, ``set_cpu_math_library_num_threads``, oneDNN when ``enable_mkldnn``; bf16 (and
    fp16, as PaddleVideo) add ``enable_mkldnn_bfloat16``, bf16 only on a CPU that has it (``cpuinfo``,
    else ``UnsupportedDeviceError``). GPU: ``enable_use_gpu(gpu_mem)``, optional TensorRT with
    ``max_batch_size`` and, for a free view dimension, ``trt_shape_ranges`` (min, max, opt). ``enable_memory_optim()`` (buffer reuse) is asked for wherever Paddle takes it:
    for a classic ``.pdmodel`` on CPU it cuts the peak memory of a 250-frame TSN video from 12 GB to
    3 GB with oneDNN (native kernels: from ~40 GB, out of memory on 24 GB, to 16 GB). Paddle 3.3.1
    rejects it for PIR ``.json`` programs on CPU ("Not find predictor_id ... memory_optimize_pass";
    PaddleVideo's predict.py dies there); those predictors are created without it (PIR reuses memory
    itself), and any other such refusal falls back the same way.
    """

    kind = "paddle_inference"

    def __init__(self, model_file, params_file, use_gpu=False, gpu_mem=8000, cpu_threads=None,
                 enable_mkldnn=True, ir_optim=True, precision="fp32", use_tensorrt=False,
                 trt_max_batch_size=1, disable_glog=False, trt_shape_ranges=None, cpuinfo=None):
        check_precision(precision)
        check_tensorrt(use_tensorrt, use_gpu)
        if precision == "bf16" and use_gpu and not use_tensorrt:
            raise UnsupportedDeviceError("--precision bf16 is a CPU path: pass --use_gpu False (on the GPU: fp16)")
        if precision == "bf16" and not use_gpu:
            check_cpu_bf16(enable_mkldnn, ir_optim, cpuinfo)
        inputs = check_model_files(model_file, params_file)
        self.model_file = self.source = model_file
        self.params_file = params_file
        self.input_name = inputs[0][0] if inputs else None
        self.input_shape = inputs[0][1] if inputs else None
        self.use_gpu = use_gpu
        self.precision = precision
        self.cpu_threads = cpu_threads or usable_cpus()
        self.enable_mkldnn = enable_mkldnn and not use_gpu
        if precision in ("fp16", "int8") and not use_gpu and not (precision == "fp16" and self.enable_mkldnn):
            logger.warning(f"--precision {precision} has no CPU path here: running fp32")
        settings = dict(gpu_mem=gpu_mem, ir_optim=ir_optim, precision=precision, use_tensorrt=use_tensorrt,
                        trt_max_batch_size=trt_max_batch_size, disable_glog=disable_glog,
                        trt_shape_ranges=trt_shape_ranges)
        self.memory_optim = self.wants_memory_optim(model_file, use_gpu)
        try:
            self.predictor = self._create(memory_optim=self.memory_optim, **settings)
        except InferenceError as err:
            if not (self.memory_optim and "memory_optimize_pass" in str(err)):
                raise
            self.memory_optim = False
            self.predictor = self._create(memory_optim=False, **settings)
        self.input_handle = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output_handle = self.predictor.get_output_handle(self.predictor.get_output_names()[0])

    @staticmethod
    def wants_memory_optim(model_file, use_gpu) -> bool:
        """Ask for ``enable_memory_optim`` except for a PIR ``.json`` program on CPU (3.3.1 rejects it)."""
        return bool(use_gpu) or not model_file.endswith(".json")

    def _create(self, memory_optim, gpu_mem, ir_optim, precision, use_tensorrt, trt_max_batch_size,
                disable_glog, trt_shape_ranges):
        from paddle import inference
        config = inference.Config(self.model_file, self.params_file)
        if self.use_gpu:
            config.enable_use_gpu(int(gpu_mem), 0)
            if use_tensorrt:
                config.enable_tensorrt_engine(precision_mode=tensorrt_precision(precision),
                                              max_batch_size=int(trt_max_batch_size),
                                              min_subgraph_size=3)
                if trt_shape_ranges:
                    config.set_trt_dynamic_shape_info(*trt_shape_ranges)  # (min, max, opt), Paddle's order
        else:
            configure_cpu(config, self.cpu_threads, self.enable_mkldnn, precision)
        if memory_optim:
            config.enable_memory_optim()
        config.switch_ir_optim(bool(ir_optim))
        config.switch_use_feed_fetch_ops(False)
        if disable_glog:
            config.disable_glog_info()
        try:
            return inference.create_predictor(config)
        except (ValueError, RuntimeError, OSError) as err:
            raise InferenceError(f"Paddle Inference cannot load {self.model_file} with {self.params_file}: "
                                 f"{_first_line(err)}") from None

    def run(self, batch):
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        self.input_handle.reshape(list(batch.shape))
        self.input_handle.copy_from_cpu(batch)
        try:
            with _native_stdout_to_stderr():
                self.predictor.run()
        except (ValueError, RuntimeError) as err:
            raise InferenceError(f"Paddle Inference failed on input {list(batch.shape)} "
                                 f"({self.model_file}): {_first_line(err)}") from None
        return self.output_handle.copy_to_cpu()

    def describe(self):
        where = "GPU" if self.use_gpu else f"CPU, {self.cpu_threads} threads, oneDNN {'on' if self.enable_mkldnn else 'off'}"
        return f"Paddle Inference ({where}, {self.precision}, memory_optim {'on' if self.memory_optim else 'off'})"


def configure_cpu(config, cpu_threads: int, enable_mkldnn: bool, precision: str):
    """CPU settings of a ``paddle.inference.Config``: threads, oneDNN, and oneDNN bfloat16 for bf16/fp16."""
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(int(cpu_threads))
    if not enable_mkldnn:
        config.disable_mkldnn()
        return config
    config.set_mkldnn_cache_capacity(10)  # bounded cache of input shapes (PaddleVideo's value)
    config.enable_mkldnn()
    if precision in ("bf16", "fp16"):  # fp16: PaddleVideo's request for oneDNN bfloat16
        config.enable_mkldnn_bfloat16()
    return config


class OnnxPredictor(Predictor):
    """onnxruntime session on ``onnx_file``: the CUDA provider when installed and ``use_gpu`` is True or
    None (the default), else the CPU provider; ``use_gpu=True`` without it warns once."""

    kind = "onnxruntime"

    def __init__(self, onnx_file, cpu_threads=None, ir_optim=True, use_gpu=None):
        ort = require_module("onnxruntime", "onnxruntime", "running an ONNX model")
        if not onnx_file or not os.path.isfile(onnx_file):
            raise InferenceError(f"--onnx_file: file not found: {onnx_file}")
        self.onnx_file = self.source = onnx_file
        self.cpu_threads = cpu_threads or usable_cpus()
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(self.cpu_threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if ir_optim
                                            else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        providers = ["CPUExecutionProvider"]
        if use_gpu is not False and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        elif use_gpu:
            logger.warning("--use_gpu True, but this onnxruntime has no CUDA provider: running on CPU")
        try:
            self.session = ort.InferenceSession(onnx_file, sess_options=options, providers=providers)
        except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf classes
            raise InferenceError(f"onnxruntime cannot load {onnx_file}: {_first_line(err)}") from None
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        self.input_shape = [d if isinstance(d, int) else -1 for d in first.shape]
        self.providers = self.session.get_providers()

    def run(self, batch):
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        try:
            return self.session.run(None, {self.input_name: batch})[0]
        except Exception as err:
            raise InferenceError(f"onnxruntime failed on input {list(batch.shape)} ({self.onnx_file}): "
                                 f"{_first_line(err)}") from None

    def describe(self):
        return f"onnxruntime ({self.providers[0]}, {self.cpu_threads} threads)"


class DygraphPredictor(Predictor):
    """The dygraph model itself (``model.infer_step([imgs])`` under ``no_grad``): the fidelity reference."""

    kind = "dygraph"

    def __init__(self, model):
        self.model = model
        self.model.eval()

    def run(self, batch):
        import paddle
        with paddle.no_grad():
            out = self.model.infer_step([paddle.to_tensor(np.asarray(batch, dtype=np.float32))])
        return out.numpy()

    def describe(self):
        return "Paddle dygraph"


@contextlib.contextmanager
def _native_stdout_to_stderr():
    """Send what C++ writes to fd 1 meanwhile to fd 2: Paddle 3.3.1's oneDNN passes print debug
    lines ("ReduceMeanCheckIfOneDNNSupport") on stdout, where predict's result lines go.

    Those lines go through C++ ``std::cout``, not glog, so neither ``--disable_glog`` nor any flag of
    Paddle's silences them, and ``sys.stdout`` never sees them: only an fd-level redirect does. It is
    held only around predictor creation and ``run()``.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no usable fds (embedded use): leave stdout alone
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _first_line(err) -> str:
    text = str(err).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not set(line) <= set("-="):
            return line[:300]
    return type(err).__name__
