"""Which videos to predict: one video file, a folder of videos, or a list file of video paths."""
import os

from .errors import InferenceError

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".flv", ".mpg", ".mpeg", ".m4v")
LIST_EXTENSIONS = (".txt", ".list", ".lst")


def _read_list_file(path: str):
    """Lines ``<video path> [label ...]`` (a VideoDataset list works); blank and ``#`` lines skipped.

    Relative paths are taken from the current folder, else from the list file's folder.
    """
    base = os.path.dirname(os.path.abspath(path))
    files = []
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            video = fields[0]
            if not os.path.isabs(video) and not os.path.exists(video):
                beside = os.path.join(base, video)
                video = beside if os.path.exists(beside) else video
            files.append(video)
    if not files:
        raise InferenceError(f"list file {path} names no video (expected one '<video path> [label]' per line)")
    return files


def collect_videos(input_file: str):
    """``input_file`` -> list of video paths (a folder: its videos sorted by name; a .txt/.list: its lines).

    Raises ``InferenceError`` when the path does not exist or a folder holds no video.
    """
    if not input_file:
        raise InferenceError("no input given: pass -i/--input_file VIDEO (or a folder, or a .txt list of videos)")
    if os.path.isdir(input_file):
        names = sorted(n for n in os.listdir(input_file) if n.lower().endswith(VIDEO_EXTENSIONS))
        if not names:
            raise InferenceError(f"folder {input_file} holds no video ({', '.join(VIDEO_EXTENSIONS)})")
        return [os.path.join(input_file, n) for n in names]
    if not os.path.exists(input_file):
        raise InferenceError(f"input file not found: {input_file}")
    if input_file.lower().endswith(LIST_EXTENSIONS):
        return _read_list_file(input_file)
    return [input_file]
