"""Decoders: open the source and record how many frames it has; the ``Sampler`` decodes only its picks.

After a decoder, ``results`` holds ``frames_len`` (int), ``format`` (``'video'`` | ``'frame'``) and
``reader`` (see ``readers.py``), which the Sampler uses and then removes (it holds a file handle).
"""
from ...utils.optional import import_optional
from ..registry import PIPELINES
from .errors import DecodeError, MissingBackendError, PipelineError
from .readers import VIDEO_READERS, FrameFolderReader

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
class VideoDecoder:
    """Open ``results['filename']`` with ``backend`` (cv2 | decord | pyav); frames are decoded later, by the Sampler."""

    def __init__(self, backend="cv2"):
        require_backend(backend)
        self.backend = backend

    def __call__(self, results):
        if "filename" not in results:
            raise PipelineError("VideoDecoder needs results['filename'] (the video path)")
        reader = VIDEO_READERS[self.backend](results["filename"])
        if reader.frames_len <= 0:
            reader.close()
            raise DecodeError(f"video has no frames: {results['filename']}")
        results["reader"] = reader
        results["frames_len"] = reader.frames_len
        results["format"] = "video"
        return results


@PIPELINES.register()
class FrameDecoder:
    """Point at a folder of extracted JPEGs (``frame_dir``, ``suffix``, ``frames_len`` from the list file)."""

    def __init__(self):
        pass

    def __call__(self, results):
        for key in ("frame_dir", "frames_len"):
            if key not in results:
                raise PipelineError(f"FrameDecoder needs results['{key}']")
        suffix = results.get("suffix", "img_{:05}.jpg")
        results["reader"] = FrameFolderReader(results["frame_dir"], suffix, results["frames_len"])
        results["frames_len"] = int(results["frames_len"])
        results["format"] = "frame"
        return results
