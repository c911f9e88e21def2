"""Extract every frame of every video under a folder into JPEG folders, in parallel.

    python data/k400/extract_rawframes.py data/k400/videos data/k400/rawframes --num_workers 8

``SRC/<class>/<name>.mp4`` becomes ``DST/<class>/<name>.mp4/img_00001.jpg ...`` (1-based, written by
``cv2.imwrite`` from every decoded frame, like PaddleVideo). Whitespace in folder or file names becomes
``_`` so the list files stay one record per line. Each video is written to a temporary folder and
renamed when complete: a finished folder is skipped on the next run, an interrupted one redone.
Unreadable videos are listed at the end (and in ``DST/failed_videos.txt``); the exit status is 1 then.
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

from paddlevideo.utils.errors import UserError, run_cli  # noqa: E402

VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".flv", ".m4v", ".mpg", ".mpeg", ".wmv")


def safe_relpath(rel: str) -> str:
    """``rel`` with runs of whitespace replaced by ``_`` (list files split on whitespace)."""
    return re.sub(r"\s+", "_", rel)


def find_videos(src: str, exts=VIDEO_EXTS):
    """Relative paths of the videos under ``src`` (any depth), sorted."""
    found = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(exts):
                found.append(os.path.relpath(os.path.join(root, name), src))
    return found


def extract_one(src_path: str, out_dir: str, new_short: int = 0, quality: int = 95):
    """Write ``out_dir/img_00001.jpg ...``; returns ``(frames written, error or None)``.

    Frames go to ``out_dir + '.tmp'`` first, renamed to ``out_dir`` only when the video is done.
    ``new_short`` > 0 resizes so the short side has that many pixels (0 keeps the size).
    """
    cv2.setNumThreads(1)
    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    cap = cv2.VideoCapture(src_path)
    if not cap.isOpened():
        return 0, "cannot open (corrupt file or unsupported codec)"
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
        return count, str(err)
    finally:
        cap.release()
    if count == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return 0, "no decodable frames"
    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(tmp, out_dir)
    return count, None


def _job(args):
    rel, src, dst, new_short, quality = args
    out_dir = os.path.join(dst, safe_relpath(rel))
    os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    count, error = extract_one(os.path.join(src, rel), out_dir, new_short, quality)
    return rel, count, error


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
    return run_cli("extract_rawframes.py", lambda: _extract_all(args))


def _extract_all(args) -> int:
    if not os.path.isdir(args.src):
        raise UserError(f"source folder not found: {args.src}")
    exts = tuple("." + e.strip().lstrip(".").lower() for e in args.ext.split(",") if e.strip())
    videos = find_videos(args.src, exts)
    if not videos:
        raise UserError(f"no videos ({', '.join(exts)}) under {args.src}")
    todo = [rel for rel in videos
            if args.redo or not os.path.isdir(os.path.join(args.dst, safe_relpath(rel)))]
    skipped = len(videos) - len(todo)
    failed, frames = [], 0
    jobs = [(rel, args.src, args.dst, args.new_short, args.quality) for rel in todo]
    pool = Pool(args.num_workers) if args.num_workers > 1 and len(jobs) > 1 else None
    try:
        done = pool.imap_unordered(_job, jobs) if pool else map(_job, jobs)
        for rel, count, error in tqdm(done, total=len(jobs), desc="extract", unit="video"):
            if error:
                failed.append((rel, error))
            else:
                frames += count
    finally:
        if pool:
            pool.close()
            pool.join()
    os.makedirs(args.dst, exist_ok=True)
    report = os.path.join(args.dst, "failed_videos.txt")
    if failed:
        with open(report, "w", encoding="utf-8") as f:
            for rel, error in sorted(failed):
                f.write(f"{rel}\t{error}\n")
        print(f"Unreadable videos ({len(failed)}):")
        for rel, error in sorted(failed):
            print(f"  {os.path.join(args.src, rel)}: {error}")
    elif os.path.isfile(report):
        os.remove(report)
    print(f"extracted {len(todo) - len(failed)} videos ({frames} frames) to {args.dst}; "
          f"skipped {skipped} already done; {len(failed)} unreadable"
          + (f" (listed in {report})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
