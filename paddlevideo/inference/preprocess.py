"""Which videos to predict, and how one video becomes the model's input array.

Inputs: one video, a folder of videos, or a list file of video paths (``collect_videos``). The test-time
preprocessing is built from op specs (``model.ModelSetup.specs``: ``<name>.yml`` or a config's
``INFERENCE``) through the data loader's own registry; the input shape is measured on the built ops, so
the number of views per frame lives in the crop op alone.
"""
import os

import numpy as np

from ..utils.errors import UserError
from ..utils.text_files import read_lines
from .model import InferenceError, inference_op_specs, inference_top_k, spec_items


class VideoReadError(InferenceError):
    """A file to predict is missing, empty or not a decodable video; the message names it."""


# ---------------------------------------------------------------- which videos
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".flv", ".mpg", ".mpeg", ".m4v")
LIST_EXTENSIONS = (".txt", ".list", ".lst")


def _list_line(fields):
    """``<video path> [label]`` (a VideoDataset list) -> (path, label or None); other fields are ignored."""
    label = None
    if len(fields) == 2 and fields[1].lstrip("-").isdigit():
        label = int(fields[1])
    return fields[0], label


def read_video_list(path: str, data_prefix: str = None):
    """Lines ``<video path> [label]`` (what ``data/k400/build_file_list.py`` and VideoDataset use) ->
    ``(paths, labels)``; blank and ``#`` lines skipped; ``labels`` is None unless every line has one.

    Relative paths are joined to ``data_prefix`` when given (as VideoDataset does); otherwise they are
    taken from the current folder, else from the list file's folder.
    """
    base = os.path.dirname(os.path.abspath(path))
    files, labels = [], []
    for line in read_lines(path):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        video, label = _list_line(fields)
        if data_prefix is not None and not os.path.isabs(video):
            video = os.path.join(data_prefix, video)
        elif not os.path.isabs(video) and not os.path.exists(video):
            beside = os.path.join(base, video)
            video = beside if os.path.exists(beside) else video
        files.append(video)
        labels.append(label)
    if not files:
        raise InferenceError(f"list file {path} names no video (expected one '<video path> [label]' per line)")
    return files, (labels if all(label is not None for label in labels) else None)


def walk_videos(root: str) -> list:
    """The videos in ``root`` and its subfolders (a dataset root of class folders), sorted by path.

    Linked folders are followed; a link that leads back into its own ancestors (a loop) raises
    ``InferenceError`` naming it, and a folder reached twice is listed once.
    """
    found, seen = [], set()

    def visit(folder, ancestors):
        real = os.path.realpath(folder)
        if real in ancestors:
            raise InferenceError(f"{folder} is a symbolic link loop (it leads back to {real}); remove the link "
                                 "or pass a list file")
        if real in seen:
            return
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as err:
            raise InferenceError(f"cannot read the folder {folder}: {err.strerror or err}") from None
        for entry in entries:
            if entry.is_dir():
                visit(entry.path, ancestors | {real})
            elif entry.name.lower().endswith(VIDEO_EXTENSIONS):
                found.append(entry.path)

    visit(root, frozenset())
    return sorted(found, key=lambda path: os.path.relpath(path, root).split(os.sep))


def collect_inputs(input_file: str, data_prefix: str = None, as_list: bool = False):
    """``-i`` -> ``(video paths, labels or None)``: a video; a folder tree of videos (sorted); or a
    .txt/.list file of ``<path> [label]`` lines (``as_list``: whatever its name, PaddleVideo's
    ``--time_test_file``). Raises ``InferenceError`` when the path does not exist or holds no video.
    """
    if not input_file:
        raise InferenceError("no input given: pass -i/--input_file VIDEO (or a folder, or a .txt list of videos)")
    if data_prefix is not None and not (as_list or input_file.lower().endswith(LIST_EXTENSIONS)):
        raise InferenceError(f"--data_prefix applies to a list file (-i {'|'.join(LIST_EXTENSIONS)}), "
                             f"not to {input_file}")
    if os.path.isdir(input_file):
        files = walk_videos(input_file)
        if not files:
            raise InferenceError(f"folder {input_file} holds no video, in it or its subfolders "
                                 f"({', '.join(VIDEO_EXTENSIONS)})")
        return files, None
    if not os.path.exists(input_file):
        raise InferenceError(f"input file not found: {input_file}")
    if as_list or input_file.lower().endswith(LIST_EXTENSIONS):
        return read_video_list(input_file, data_prefix)
    return [input_file], None


def collect_videos(input_file: str, data_prefix: str = None) -> list:
    """The video paths of ``collect_inputs`` (labels dropped)."""
    return collect_inputs(input_file, data_prefix)[0]


# ---------------------------------------------------------------- one video -> array
PROBE_FRAME_CLIP = 10 ** 6  # a frame count every sampler setting can draw from


DEFAULT_BACKEND = "cv2"


def default_backend() -> str:
    """cv2, the decoder training uses: it reads what training reads (decord, PaddleVideo's predict
    choice, refuses small clips such as 48x40 and aborts the whole process on a header that claims
    2^31-1 frames); both give the same pixels. ``INFERENCE.backend`` or the ``.yml`` can name another."""
    return DEFAULT_BACKEND


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
        """The model input of the video at ``path``; a file that cannot be read raises ``VideoReadError``."""
        if not os.path.exists(path):
            raise VideoReadError(f"input file not found: {path}")
        try:
            results = self.pipeline({"filename": path})
        except VideoReadError:
            raise
        except UserError as err:
            raise VideoReadError(" ".join(str(err).split())) from None
        imgs = np.asarray(results["imgs"], dtype=np.float32)
        return imgs[None]


def build_preprocessor(inference_cfg) -> TSNPreprocessor:
    """The preprocessor for a config's ``INFERENCE`` section (``{name: ppTSN_Inference_helper, num_seg, ...}``)."""
    return TSNPreprocessor(inference_op_specs(inference_cfg), inference_top_k(inference_cfg))


def preprocessor_of(setup) -> TSNPreprocessor:
    """The preprocessor of a ``model.ModelSetup``; an unusable op spec in ``X.yml`` names the file."""
    try:
        return TSNPreprocessor(setup.specs, setup.top_k)
    except UserError as err:  # an unknown op or argument, a missing decoder package
        if setup.yml is None:
            raise
        raise InferenceError(f"{setup.yml}: preprocess: {err}") from None
