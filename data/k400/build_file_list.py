"""Write the dataset list files PaddleVideo's TSN configs read, from a folder tree with one folder per class.

    # videos:    ROOT/<class>/<name>.mp4          -> lines "<class>/<name>.mp4 <label>"
    python data/k400/build_file_list.py data/k400/videos/train --format videos --out data/k400/train.list \
        --label_list data/k400/Kinetics-400_label_list.txt
    # rawframes: ROOT/<class>/<name>.mp4/img_00001.jpg -> lines "<class>/<name>.mp4 <num_frames> <label>"
    python data/k400/build_file_list.py data/k400/rawframes/train --format rawframes \
        --out data/k400/train_frames.list --label_list data/k400/Kinetics-400_label_list.txt

Paths are written relative to ROOT (set ``data_prefix: ROOT`` in the config; for videos, or use
``--absolute``). Labels come from ``--label_list`` (``<index> <class_name>`` lines, the Kinetics-400 list);
class folder names match it with whitespace read as ``_`` ("air drumming" -> air_drumming). When the label
list file does not exist it is written from the sorted class folders (for Kinetics-400 that gives the
official order). ``--val_out`` / ``--val_fraction`` split each class into train and val lists.
Symlinked folders (a class folder linked from another disk) are followed, as ``extract_rawframes.py`` does;
a link back to a parent folder is refused. An output path that is one of the inputs (``--out`` naming the
label list) is refused before anything is written.
"""
import argparse
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from paddlevideo.utils.atomic import atomic_write  # noqa: E402
from paddlevideo.utils.errors import UserError, run_cli  # noqa: E402
from paddlevideo.utils.folder_walk import walk_folders  # noqa: E402
from paddlevideo.utils.paths import refuse_output_over_inputs  # noqa: E402
from paddlevideo.utils.text_files import read_lines  # noqa: E402

VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".flv", ".m4v", ".mpg", ".mpeg", ".wmv")


class ListError(UserError, ValueError):
    """Input the list cannot be built from; the message names the path."""


def class_key(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip())


def read_label_list(path: str) -> dict:
    """``{class_name: index}`` from ``<index> <class_name>`` lines."""
    labels, seen = {}, {}
    for line_no, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not parts[0].isdigit():
            raise ListError(f"{path}:{line_no}: expected '<index> <class_name>', got {line.rstrip()!r}")
        name, index = class_key(parts[1]), int(parts[0])
        if name in labels:
            raise ListError(f"{path}:{line_no}: class '{name}' is listed twice (indices {labels[name]} "
                            f"and {index})")
        if index in seen:
            raise ListError(f"{path}:{line_no}: index {index} is given to both '{seen[index]}' and '{name}'")
        labels[name], seen[index] = index, name
    return labels


def frame_counter(suffix: str):
    """Function counting, among file names, the frame files ``suffix.format(i)``."""
    head, _, rest = suffix.partition("{")
    tail = rest.partition("}")[2]
    pattern = re.compile(re.escape(head) + r"\d+" + re.escape(tail) + "$")
    return lambda names: sum(1 for name in names if pattern.match(name))


def collect(root: str, fmt: str, suffix: str):
    """``[(class_name, relative path, num_frames or None)]`` under ``root/<class>/``."""
    if not os.path.isdir(root):
        raise ListError(f"folder not found: {root}")
    count = frame_counter(suffix)
    items = []
    for folder, _, files in walk_folders(root):
        rel_folder = os.path.relpath(folder, root)
        if rel_folder == ".":
            continue  # files beside the class folders belong to no class
        cls = rel_folder.split(os.sep)[0]
        if fmt == "videos":
            items += [(cls, os.path.join(rel_folder, name), None) for name in files
                      if name.lower().endswith(VIDEO_EXTS)]
        elif rel_folder != cls:  # a frame folder lies inside a class folder, never is one
            n = count(files)
            if n:
                items.append((cls, rel_folder, n))
    if not items:
        what = "videos" if fmt == "videos" else f"frame folders ({suffix})"
        raise ListError(f"no {what} found under {root}/<class>/ (expected one sub-folder per class)")
    return items


def write_list(path: str, lines):
    with atomic_write(path) as (f, _):
        f.writelines(line + "\n" for line in lines)


def build_lines(items, labels: dict, root: str, absolute: bool, label_path: str):
    lines = []
    for cls, rel, n in items:
        key = class_key(cls)
        if key not in labels:
            raise ListError(f"class folder '{cls}' is not in the label list {label_path}")
        path = os.path.abspath(os.path.join(root, rel)) if absolute else rel
        if re.search(r"\s", path):
            raise ListError(f"path has whitespace, which list files cannot hold: {path!r}; rename it "
                            "(e.g. replace spaces with '_') or extract rawframes, which does so")
        lines.append(f"{path} {labels[key]}" if n is None else f"{path} {n} {labels[key]}")
    return lines


def split(lines_by_class: dict, val_fraction: float, seed: int):
    rng = random.Random(seed)
    train, val = [], []
    for cls in sorted(lines_by_class):
        lines = list(lines_by_class[cls])
        rng.shuffle(lines)
        n_val = int(round(len(lines) * val_fraction))
        val += lines[:n_val]
        train += lines[n_val:]
    return train, val


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build PaddleVideo list files from ROOT/<class>/... folders.")
    parser.add_argument("root", help="folder with one sub-folder per class")
    parser.add_argument("--format", choices=["videos", "rawframes"], required=True,
                        help="videos: '<path> <label>' lines; rawframes: '<frame_dir> <num_frames> <label>'")
    parser.add_argument("--out", required=True, help="list file to write")
    parser.add_argument("--label_list", required=True,
                        help="'<index> <class_name>' file (Kinetics-400 label list); written from the class "
                             "folders when it does not exist")
    parser.add_argument("--suffix", default="img_{:05}.jpg", help="frame file name pattern (rawframes)")
    parser.add_argument("--absolute", action="store_true", help="write absolute paths (default: relative to root)")
    parser.add_argument("--val_out", help="also write a validation list, taking --val_fraction of each class")
    parser.add_argument("--val_fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val split")
    args = parser.parse_args(argv)
    if not 0.0 <= args.val_fraction < 1.0:
        parser.error(f"--val_fraction must be in [0, 1), got {args.val_fraction}")
    return run_cli("build_file_list.py", lambda: _build(args))


def _build(args) -> int:
    try:
        return _write_lists(args)
    except OSError as err:  # an output under a file, a read-only place, a full disk
        raise ListError(f"{err.filename or ''}: {err.strerror or err}".lstrip(": ")) from None


def refuse_outputs_over_inputs(args):
    """No output may replace an input (the label list, the root) or the other output of the same run."""
    refuse_output_over_inputs(args.out, {"--label_list": args.label_list, "ROOT": args.root})
    refuse_output_over_inputs(args.val_out, {"--label_list": args.label_list, "ROOT": args.root,
                                             "--out": args.out})


def _write_lists(args) -> int:
    refuse_outputs_over_inputs(args)
    items = collect(args.root, args.format, args.suffix)
    if os.path.isfile(args.label_list):
        labels = read_label_list(args.label_list)
    else:
        classes = sorted({class_key(cls) for cls, _, _ in items})
        labels = {name: i for i, name in enumerate(classes)}
        write_list(args.label_list, [f"{i} {name}" for name, i in labels.items()])
        print(f"wrote label list {args.label_list} ({len(labels)} classes from the folders)")
    lines = build_lines(items, labels, args.root, args.absolute, args.label_list)
    if not args.val_out:
        write_list(args.out, lines)
        print(f"wrote {args.out} ({len(lines)} samples, {len({c for c, _, _ in items})} classes)")
        return 0
    by_class = {}
    for (cls, _, _), line in zip(items, lines):
        by_class.setdefault(cls, []).append(line)
    train, val = split(by_class, args.val_fraction, args.seed)
    if not train:
        raise ListError(f"--val_fraction {args.val_fraction} leaves no training sample in {args.out}")
    write_list(args.out, train)
    write_list(args.val_out, val)
    print(f"wrote {args.out} ({len(train)} samples) and {args.val_out} ({len(val)} samples), "
          f"{len(by_class)} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
