"""Test-time preprocessing of one video, built from op specs through the data loader's own registry.

The specs come from ``<name>.yml`` beside an exported model, or from a config's ``INFERENCE`` section
(``op_specs.inference_op_specs``: PaddleVideo's ``ppTSN_Inference_helper``). The input shape is
measured on the built ops, so the number of views per frame lives in the crop op alone.
"""
import numpy as np

from .errors import InferenceError
from .op_specs import inference_op_specs, inference_top_k, spec_items

PROBE_FRAME_CLIP = 10 ** 6  # a frame count every sampler setting can draw from


def default_backend() -> str:
    """decord when installed (PaddleVideo's choice), else cv2: both give the same pixels."""
    try:
        import decord  # noqa: F401
        return "decord"
    except ImportError:
        return "cv2"


def with_decoder_backend(specs) -> list:
    """The specs with ``default_backend()`` filled in for a ``VideoDecoder`` that names none."""
    filled = []
    for spec in specs:
        name, kwargs = spec_items(spec)
        if name == "VideoDecoder" and "backend" not in kwargs:
            kwargs["backend"] = default_backend()
        filled.append({name: kwargs})
    return filled


def measure_input_shape(ops) -> list:
    """``[1, frames * views, C, H, W]`` of one video, measured on the built ops.

    ``frames``: how many indices the sampler draws from a long clip (``Sampler.indices``); ``views,
    C, H, W``: what the ops after it make of one blank frame, large enough for any crop they take.
    """
    names = [type(op).__name__ for op in ops]
    if "Sampler" not in names:
        raise InferenceError(f"the preprocessing ops {names} have no Sampler")
    at = names.index("Sampler")
    frames = len(ops[at].indices(PROBE_FRAME_CLIP, "video"))
    sizes = [getattr(op, key) for op in ops[at + 1:] for key in ("short_size", "target_size")
             if isinstance(getattr(op, key, None), int)]
    side = max(sizes or [256])
    results = {"imgs": np.zeros((1, side, side, 3), dtype=np.uint8)}
    for op in ops[at + 1:]:
        results = op(results)
    views, *chw = np.asarray(results["imgs"]).shape
    return [1, frames * views, *chw]


class TSNPreprocessor:
    """``__call__(path) -> float32 [1, frames * views, 3, H, W]``, e.g. ``[1, num_seg * 10, 3, 224, 224]``.

    ``specs``: ``[{OpName: {kwargs}}, ...]`` built with ``Compose`` (the registry the training
    pipelines use); a ``VideoDecoder`` without ``backend`` gets ``default_backend()``.
    """

    def __init__(self, specs, top_k=1):
        from paddlevideo.loader.pipelines import Compose
        self.specs = with_decoder_backend(specs)
        self.top_k = int(top_k)
        # Compose runs Image2Array + Normalization as one table lookup (same numbers, ~4x faster).
        self.pipeline = Compose(self.specs)
        self.input_shape = measure_input_shape(self.pipeline.ops)

    @property
    def frames_per_video(self) -> int:
        """Frames the model sees per video (segments x views): the backbone's batch for one video."""
        return self.input_shape[1]

    def describe(self) -> str:
        """``VideoDecoder(backend=cv2) -> Sampler(num_seg=3, ...) -> ...`` for messages."""
        parts = []
        for spec in self.specs:
            name, kwargs = spec_items(spec)
            parts.append(f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})")
        return " -> ".join(parts)

    def __call__(self, path: str) -> np.ndarray:
        results = self.pipeline({"filename": path})
        imgs = np.asarray(results["imgs"], dtype=np.float32)
        return imgs[None]


def build_preprocessor(inference_cfg) -> TSNPreprocessor:
    """The preprocessor for a config's ``INFERENCE`` section (``{name: ppTSN_Inference_helper, num_seg, ...}``)."""
    return TSNPreprocessor(inference_op_specs(inference_cfg), inference_top_k(inference_cfg))
