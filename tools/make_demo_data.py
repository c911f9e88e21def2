"""Build a small labelled video dataset for the demo and tests: no download, generated clips.

Four visually distinct classes of moving patterns, each clip with its own random background,
position, size, speed and noise, written as MJPG .avi files::

    python tools/make_demo_data.py --out data/demo            # 4 classes x 24 clips
    python tools/make_demo_data.py --out /tmp/d --per_class 6 --frames 32

Writes ``<out>/videos/<class>/<class>_<i>.avi`` and ``<out>/label_list.txt`` (Kinetics-style
``<index> <name>`` lines). List files are then written by ``data/k400/build_file_list.py``, as
for any dataset (docs/data.md).
"""
import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from paddlevideo.utils.atomic import atomic_write  # noqa: E402

CLASSES = ["red_ball", "green_bars", "blue_checker", "white_noise"]


def _background(rng, height, width):
    tone = rng.integers(0, 70, size=3)
    noise = rng.integers(0, 40, size=(height, width, 3))
    return np.clip(tone + noise, 0, 255).astype(np.uint8)


def render_clip(label: int, rng, num_frames: int, width: int, height: int):
    """Frames (BGR uint8 ``[num_frames, height, width, 3]``) of one clip of class ``label``."""
    background = _background(rng, height, width)
    frames = []
    size = int(rng.integers(height // 6, height // 3))
    x0, y0 = rng.integers(0, width), rng.integers(0, height)
    speed = rng.uniform(1.0, 3.0) * rng.choice([-1, 1])
    period = int(rng.integers(6, 12))
    for t in range(num_frames):
        frame = background.copy()
        if label == 0:  # a red disc crossing the frame
            x = int(x0 + speed * t) % width
            cv2.circle(frame, (x, int(y0)), size, (30, 30, 230), -1)
        elif label == 1:  # green horizontal bars scrolling vertically
            shift = int(speed * t)
            for y in range(-period * 2, height + period * 2, period * 2):
                top = (y + shift) % (height + period * 2) - period
                cv2.rectangle(frame, (0, top), (width - 1, top + period // 2 + 1), (40, 220, 40), -1)
        elif label == 2:  # a blue checkerboard that flickers
            cell = max(4, period)
            ys, xs = np.mgrid[0:height, 0:width]
            board = ((xs // cell + ys // cell + (t // 3)) % 2).astype(bool)
            frame[board] = (220, 60, 30)
        else:  # bright grey noise
            frame = rng.integers(120, 255, size=(height, width, 1)).repeat(3, axis=2).astype(np.uint8)
        jitter = rng.integers(-12, 13, size=frame.shape)
        frames.append(np.clip(frame.astype(np.int16) + jitter, 0, 255).astype(np.uint8))
    return np.stack(frames)


def write_avi(path: str, frames, fps: int = 25):
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cv2 cannot write {path} (MJPG codec missing?)")
    for frame in frames:
        writer.write(frame)
    writer.release()


def build_demo_dataset(out: str, per_class: int = 24, num_frames: int = 40, width: int = 96,
                       height: int = 72, seed: int = 0) -> dict:
    """Write the clips and the label list under ``out`` (existing files are overwritten)."""
    rng = np.random.default_rng(seed)
    video_root = os.path.join(out, "videos")
    for label, name in enumerate(CLASSES):
        os.makedirs(os.path.join(video_root, name), exist_ok=True)
        for i in range(per_class):
            path = os.path.join(video_root, name, f"{name}_{i:03d}.avi")
            write_avi(path, render_clip(label, rng, num_frames, width, height))
    label_list = os.path.join(out, "label_list.txt")
    with atomic_write(label_list) as (f, _):
        f.write("".join(f"{i} {name}\n" for i, name in enumerate(CLASSES)))
    return {"videos": per_class * len(CLASSES), "root": video_root, "label_list": label_list}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="data/demo", help="output folder (default: data/demo)")
    parser.add_argument("--per_class", type=int, default=24, help="clips per class (default: 24)")
    parser.add_argument("--frames", type=int, default=40, help="frames per clip (default: 40)")
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--height", type=int, default=72)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.per_class < 2 or args.frames < 1:
        parser.error("--per_class must be >= 2 and --frames >= 1")
    info = build_demo_dataset(args.out, args.per_class, args.frames, args.width, args.height, seed=args.seed)
    print(f"wrote {info['videos']} clips of {len(CLASSES)} classes to {info['root']} "
          f"and the label list {info['label_list']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
