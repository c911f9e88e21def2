"""Decoders: say where a clip's frames are; the ``Sampler`` opens the clip, decodes only its picks, closes it.

No open file travels in ``results``: a decoder records plain data (path, backend, frame count), and
``open_clip`` turns it into a reader inside the Sampler's ``with`` block, so the file is closed
whatever a later op does (PaddleVideo's decoder keeps the open container in ``results``).
"""
from ...utils.optional import import_optional
from ..registry import PIPELINES
from .base import PipelineOp
from .errors import MissingBackendError, PipelineError
from .readers import VIDEO_READERS, FrameFolderReader, Reader, check_file, check_frame_dir

DEFAULT_SUFFIX = "img_{:05}.jpg"
_CLIP_KEYS = {"video": ("filename",), "frame": ("frame_dir", "frames_len")}
_BACKEND_PACKAGES = {"cv2": ("cv2", "opencv-python-headless"), "decord": ("decord", "decord"),
                     "pyav": ("av", "av")}


def require_backend(backend: str):
    """Fail with the pip command when ``backend``'s package is missing; unknown names list the choices."""
    if backend not in _BACKEND_PACKAGES:
        raise PipelineError(f"VideoDecoder backend '{backend}' is unknown; use one of: "
                            f"{', '.join(_BACKEND_PACKAGES)}")
    module, pip_name = _BACKEND_PACKAGES[backend]
    import_optional(module, pip_name, f"VideoDecoder backend '{backend}'", MissingBackendError)


@PIPELINES.register()
class VideoDecoder(PipelineOp):
    """Check that the video exists and choose its backend (cv2 | decord | pyav).

    The file is opened by the ``Sampler``, which decodes only the sampled frames.

    Required keys: ``filename``: str, path of the video.
    Added keys: ``format``: ``'video'``; ``backend``: str, the backend the Sampler opens it with.
    Modified keys: none.
    """

    def __init__(self, backend="cv2"):
        require_backend(backend)
        self.backend = backend

    def __call__(self, results):
        if "filename" not in results:
            raise PipelineError("VideoDecoder needs results['filename'] (the video path)")
        check_file(results["filename"])
        results["format"] = "video"
        results["backend"] = self.backend
        return results


@PIPELINES.register()
class FrameDecoder(PipelineOp):
    """Check a folder of extracted JPEGs ``frame_dir/suffix.format(i)``, ``i`` = 1..frames_len.

    The ``Sampler`` reads only the sampled files.

    Required keys: ``frame_dir``: str; ``frames_len``: int (or its text, from the list file); an
    optional suffix (str, default ``'img_{:05}.jpg'``) names the files.
    Added keys: ``format``: ``'frame'``.
    Modified keys: ``frames_len`` -> int.
    """

    def __init__(self):
        pass

    def __call__(self, results):
        for key in ("frame_dir", "frames_len"):
            if key not in results:
                raise PipelineError(f"FrameDecoder needs results['{key}']")
        try:
            results["frames_len"] = int(results["frames_len"])
        except (TypeError, ValueError):
            raise PipelineError(f"FrameDecoder: frames_len of {results['frame_dir']} must be an integer, "
                                f"got {results['frames_len']!r}") from None
        check_frame_dir(results["frame_dir"])
        results["format"] = "frame"
        return results


def open_clip(results) -> Reader:
    """A reader for the clip a decoder described in ``results``; close it (``with open_clip(r) as reader``)."""
    fmt = results.get("format")
    if fmt not in _CLIP_KEYS:
        raise PipelineError("the Sampler needs a decoder before it (VideoDecoder or FrameDecoder): "
                            f"results['format'] is {fmt!r}, not 'video' or 'frame'")
    for key in _CLIP_KEYS[fmt]:
        if key not in results:
            raise PipelineError(f"a '{fmt}' clip needs results['{key}'] (set by its decoder)")
    if fmt == "video":
        return VIDEO_READERS[results.get("backend", "cv2")](results["filename"])
    return FrameFolderReader(results["frame_dir"], results.get("suffix", DEFAULT_SUFFIX), results["frames_len"])
