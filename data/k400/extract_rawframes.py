"""Extract every frame of every video under a folder into JPEG folders, in parallel.

    python data/k400/extract_rawframes.py data/k400/videos data/k400/rawframes --num_workers 8

``SRC/<class>/<name>.mp4`` becomes ``DST/<class>/<name>.mp4/img_00001.jpg ...`` (1-based, written by
``cv2.imwrite`` from every decoded frame, like PaddleVideo). Whitespace in folder or file names becomes
``_`` so the list files stay one record per line. Each video is written to a temporary folder and
renamed when complete: a finished folder is skipped on the next run, an interrupted one redone.
Unreadable videos, and videos that decode well short of the frame count their container announces
(a corrupt middle, a cut file: their frames are kept), are listed at the end and in
``DST/failed_videos.txt``; the exit status is 1 then. Two videos whose names differ only in whitespace
vs ``_`` would share a frame folder: that is refused, naming both, before anything is written. Symlinked
folders (a class folder linked from another disk) are followed, as ``build_file_list.py`` does; a link back
to a parent folder is refused. DST may not be SRC (each frame folder would replace its own video).
"""
import argparse
import os
import re
import shutil
import sys
from multiprocessing import Pool

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import cv2
from tqdm import tqdm

from paddlevideo.utils.atomic import atomic_write  # noqa: E402
from paddlevideo.utils.errors import UserError, run_cli  # noqa: E402
from paddlevideo.utils.folder_walk import walk_folders  # noqa: E402
from paddlevideo.utils.paths import refuse_output_over_inputs  # noqa: E402

VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".flv", ".m4v", ".mpg", ".mpeg", ".wmv")


def safe_relpath(rel: str) -> str:
    """``rel`` with runs of whitespace replaced by ``_`` (list files split on whitespace)."""
    return re.sub(r"\s+", "_", rel)


def find_videos(src: str, exts=VIDEO_EXTS):
    """Relative paths of the videos under ``src`` (any depth, through symlinked folders), sorted."""
    found = []
    for root, _, files in walk_folders(src):
        found += [os.path.relpath(os.path.join(root, name), src) for name in files if name.lower().endswith(exts)]
    return found


def frame_folders(videos):
    """``{frame folder: video}`` for the relative video paths; two videos that would share a folder (their
    names differ only in whitespace vs ``_``) are an error naming both, before anything is written."""
    folders = {}
    for rel in videos:
        folder = safe_relpath(rel)
        if folder in folders:
            raise UserError(f"'{folders[folder]}' and '{rel}' would both be extracted to '{folder}' "
                            "(whitespace becomes '_'); rename one of them")
        folders[folder] = rel
    return folders


def is_partial(decoded: int, announced: int) -> bool:
    """More than a few frames short of what the container announces (counts are often off by 1-2 frames;
    a corrupt middle or a cut file loses many)."""
    return announced > 0 and decoded < announced - max(2, announced // 20)


def extract_one(src_path: str, out_dir: str, new_short: int = 0, quality: int = 95):
    """Write ``out_dir/img_00001.jpg ...``; returns ``(frames written, frames announced, error or None)``.

    Frames go to ``out_dir + '.tmp'`` first, renamed to ``out_dir`` only when the video is done.
    ``new_short`` > 0 resizes so the short side has that many pixels (0 keeps the size).
    """
    cv2.setNumThreads(1)
    if os.path.lexists(out_dir) and not os.path.isdir(out_dir):
        return 0, 0, f"{out_dir} exists and is not a frame folder (remove it, or choose another destination)"
    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    cap = cv2.VideoCapture(src_path)
    if not cap.isOpened():
        return 0, 0, "cannot open (corrupt file or unsupported codec)"
    announced = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
    os.makedirs(tmp, exist_ok=True)
    count = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if new_short > 0:
                h, w = frame.shape[:2]
                scale = new_short / min(h, w)
                frame = cv2.resize(frame, (int(round(w * scale)), int(round(h * scale))),
                                   interpolation=cv2.INTER_LINEAR)
            count += 1
            path = os.path.join(tmp, f"img_{count:05d}.jpg")
            if not cv2.imwrite(path, frame, [cv2.IMWRITE_JPEG_QUALITY, quality]):
                raise OSError(f"cannot write {path}")
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        return count, announced, str(err)
    finally:
        cap.release()
    if count == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return 0, announced, "no decodable frames"
    shutil.rmtree(out_dir, ignore_errors=True)
    try:
        os.rename(tmp, out_dir)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        return 0, announced, f"cannot move the frames into {out_dir}: {err.strerror or err}"
    return count, announced, None


def _job(args):
    rel, src, dst, new_short, quality = args
    out_dir = os.path.join(dst, safe_relpath(rel))
    try:
        os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    except OSError as err:  # a file where the class folder should be, a read-only place
        return rel, 0, 0, f"cannot create {os.path.dirname(out_dir)}: {err.strerror or err}"
    count, announced, error = extract_one(os.path.join(src, rel), out_dir, new_short, quality)
    return rel, count, announced, error


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Extract video frames to img_00001.jpg folders (PaddleVideo rawframes).")
    parser.add_argument("src", help="folder of videos (e.g. data/k400/videos with one sub-folder per class)")
    parser.add_argument("dst", help="output folder (e.g. data/k400/rawframes)")
    parser.add_argument("--num_workers", type=int, default=os.cpu_count() or 1, help="parallel processes")
    parser.add_argument("--ext", default=",".join(e[1:] for e in VIDEO_EXTS),
                        help="comma-separated video extensions to take (default: common ones)")
    parser.add_argument("--new_short", type=int, default=0, help="resize short side to this (0: keep size)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality (cv2 default 95)")
    parser.add_argument("--redo", action="store_true", help="extract again even where a folder is complete")
    args = parser.parse_args(argv)
    return run_cli("extract_rawframes.py", lambda: _extract(args))


def _extract(args) -> int:
    try:
        return _extract_all(args)
    except OSError as err:  # the report cannot be written (read-only place, full disk)
        raise UserError(f"{err.filename or ''}: {err.strerror or err}".lstrip(": ")) from None


def _extract_all(args) -> int:
    if not os.path.isdir(args.src):
        raise UserError(f"source folder not found: {args.src}")
    refuse_output_over_inputs(args.dst, {"SRC": args.src})
    if os.path.exists(args.dst) and not os.path.isdir(args.dst):
        raise UserError(f"destination {args.dst} is a file, expected a folder for the frame folders")
    try:
        os.makedirs(args.dst, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create the destination folder {args.dst}: {err.strerror or err}") from None
    exts = tuple("." + e.strip().lstrip(".").lower() for e in args.ext.split(",") if e.strip())
    videos = find_videos(args.src, exts)
    if not videos:
        raise UserError(f"no videos ({', '.join(exts)}) under {args.src}")
    folders = frame_folders(videos)
    todo = [rel for folder, rel in folders.items() if args.redo or not os.path.isdir(os.path.join(args.dst, folder))]
    skipped = len(videos) - len(todo)
    failed, partial, frames = [], [], 0
    jobs = [(rel, args.src, args.dst, args.new_short, args.quality) for rel in todo]
    pool = Pool(args.num_workers) if args.num_workers > 1 and len(jobs) > 1 else None
    try:
        done = pool.imap_unordered(_job, jobs) if pool else map(_job, jobs)
        for rel, count, announced, error in tqdm(done, total=len(jobs), desc="extract", unit="video"):
            if error:
                failed.append((rel, error))
                continue
            frames += count
            if is_partial(count, announced):
                partial.append((rel, f"partial: {count} of {announced} frames decoded (corrupt or cut file)"))
    finally:
        if pool:
            pool.close()
            pool.join()
    report = os.path.join(args.dst, "failed_videos.txt")
    if failed or partial:
        with atomic_write(report) as (f, _):
            f.writelines(f"{rel}\t{error}\n" for rel, error in sorted(failed + partial))
        for title, rows in (("Unreadable videos", failed), ("Partially decoded videos (frames kept)", partial)):
            if rows:
                print(f"{title} ({len(rows)}):")
                for rel, error in sorted(rows):
                    print(f"  {os.path.join(args.src, rel)}: {error}")
    elif os.path.isfile(report):
        os.remove(report)
    print(f"extracted {len(todo) - len(failed)} videos ({frames} frames) to {args.dst}; "
          f"skipped {skipped} already done; {len(failed)} unreadable; {len(partial)} partial"
          + (f" (listed in {report})" if failed or partial else ""))
    return 1 if failed or partial else 0


if __name__ == "__main__":
    sys.exit(main())
