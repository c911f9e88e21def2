"""`make demo`: the whole product end to end on a small generated dataset, in minutes on a CPU.

Each step prints the command a user would type, then runs it; the run ends with a summary (valid and
test top-1, exported files, the prediction, total time) and what to try next.
"""
import argparse
import os
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # this clone's paddlevideo, installed or not
CONFIG = "configs/recognition/tsn/tsn_demo.yaml"
DATA = "data/demo"
OUTPUT = "output/TSN_demo"
INFER_DIR = "inference/TSN_demo"


def first_val_video():
    """``(path, label)`` of the first line of the demo's val.list (exists after step 2)."""
    try:
        with open(os.path.join(ROOT, DATA, "val.list"), encoding="utf-8") as f:
            rel, label = f.readline().split()
        return f"{DATA}/videos/{rel}", int(label)
    except (OSError, ValueError):
        return f"{DATA}/videos/red_ball/red_ball_000.avi", 0


def demo_commands(python: str = "python", epochs=None, sample_video=None):
    """The demo's steps as ``(title, argv)`` pairs, with paths relative to the repository root."""
    sample_video = sample_video or first_val_video()[0]
    extra = ["-o", f"epochs={epochs}"] if epochs else []
    labels = f"{DATA}/label_list.txt"
    return [
        ("Build the demo dataset (generated clips of 4 classes)",
         [python, "tools/make_demo_data.py", "--out", DATA]),
        ("Write the video lists (train/val split per class)",
         [python, "data/k400/build_file_list.py", "--format", "videos", f"{DATA}/videos",
          "--out", f"{DATA}/train.list", "--val_out", f"{DATA}/val.list", "--label_list", labels]),
        ("Extract rawframes from the videos",
         [python, "data/k400/extract_rawframes.py", f"{DATA}/videos", f"{DATA}/rawframes"]),
        ("Write the frame lists (the same split)",
         [python, "data/k400/build_file_list.py", "--format", "rawframes", f"{DATA}/rawframes",
          "--out", f"{DATA}/train_frames.list", "--val_out", f"{DATA}/val_frames.list", "--label_list", labels]),
        ("Train TSN with validation after every epoch (--overwrite: a demo run replaces the previous one)",
         [python, "main.py", "--validate", "-c", CONFIG, "--overwrite"] + extra),
        ("Test the best checkpoint (TenCrop x 25 segments)",
         [python, "main.py", "--test", "-c", CONFIG, "-w", f"{OUTPUT}/TSN_demo_best.pdparams"]),
        ("Export the inference model",
         [python, "tools/export_model.py", "-c", CONFIG, "-p", f"{OUTPUT}/TSN_demo_best.pdparams",
          "-o", INFER_DIR]),
        ("Predict a validation video with Paddle Inference",
         [python, "tools/predict.py", "--input_file", sample_video, "--config", CONFIG,
          "--model_file", f"{INFER_DIR}/TSN_demo.pdmodel", "--params_file", f"{INFER_DIR}/TSN_demo.pdiparams",
          "--label_list", labels, "--use_gpu", "False", "--disable_glog", "True"]),
        ("Plot the training curves",
         [python, "tools/plot_log.py", f"{OUTPUT}/paddlevideo.log", "-o", f"{OUTPUT}/training_curves.png"]),
    ]


def steps_help(python: str = "python") -> str:
    """The numbered step titles, as the run prints them (``demo.py --help`` shows this list)."""
    steps = demo_commands(python)
    return "steps:\n" + "\n".join(f"  [{i}/{len(steps)}] {title}" for i, (title, _) in enumerate(steps, 1))


CONFIG_DUMP_START = "-" * 60     # main.py's config dump opens with this separator line...
CONFIG_DUMP_END = "CPU runtime:"  # ...and the runtime line follows it


class ConfigDumpFilter:
    """Drops main.py's config dump from a step's output, for steps after the one that showed it.

    Lines from the dump's opening separator up to the ``CPU runtime:`` line are held back and replaced
    by one line; if that line never comes (the command failed early), the held lines are given back, so
    no error is hidden.
    """

    def __init__(self, note: str):
        self.note, self.held, self.done = note, None, False

    def feed(self, line: str) -> list:
        """Lines to print now for one line of output."""
        if self.done:
            return [line]
        if self.held is None:
            if line.rstrip().endswith(CONFIG_DUMP_START):
                self.held = [line]
                return []
            return [line]
        if CONFIG_DUMP_END in line:
            self.done = True
            return [self.note + "\n", line]
        self.held.append(line)
        return []

    def flush(self) -> list:
        """Lines still held when the output ends."""
        held = [] if self.done else (self.held or [])
        self.held, self.done = None, True
        return held


def run_step(index: int, total: int, title: str, argv, config_shown_in=None) -> str:
    """Print the step's title and command, run it, stream its output; returns the output. When
    ``config_shown_in`` names an earlier step, the config dump is not printed again."""
    shown = " ".join(shlex.quote(a) for a in ["python"] + argv[1:])
    print(f"\n[{index}/{total}] {title}\n$ {shown}", flush=True)
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    dump = ConfigDumpFilter(f"(the config, as printed in step {config_shown_in})") if config_shown_in else None
    lines = []
    for line in proc.stdout:
        sys.stdout.writelines(dump.feed(line) if dump else [line])
        lines.append(line)
    if dump:
        sys.stdout.writelines(dump.flush())
    if proc.wait() != 0:
        print(f"\ndemo: step {index} failed (exit code {proc.returncode}): {shown}", file=sys.stderr)
        raise SystemExit(proc.returncode or 1)
    return "".join(lines)


def metrics_records(path: str) -> list:
    """The records of a ``metrics.jsonl`` (empty when it does not exist yet), through the one reader."""
    from paddlevideo.tasks.metrics_log import read_metrics
    return read_metrics(path, missing_ok=True)


def demo_results(records: list) -> dict:
    """``{"best_valid_top1", "test_top1"}`` from this demo's ``metrics.jsonl`` records (``None`` if absent)."""
    valid = [r["top1"] for r in records if r["event"] == "epoch" and r["mode"] == "val"]
    tests = [r["avg_acc1"] for r in records if r["event"] == "test"]
    return {"best_valid_top1": max(valid) if valid else None, "test_top1": tests[-1] if tests else None}


def next_steps() -> list:
    """What to try after the demo: lines of the closing message."""
    return [
        "Try next:",
        "  predict your own video: python tools/predict.py -i YOUR_VIDEO.mp4 --model_file "
        f"{INFER_DIR}/TSN_demo.pdmodel --params_file {INFER_DIR}/TSN_demo.pdiparams --label_list "
        f"{DATA}/label_list.txt",
        "  train on your own videos (one folder per class): docs/data.md, \"A custom dataset\"",
        "  PaddleVideo's Kinetics-400 weights: docs/weights.md; preparing Kinetics-400: docs/data.md",
        f"  look at the curves: {OUTPUT}/training_curves.png; every command: README.md",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__ + "\n" + steps_help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=None, help="override the demo config's epochs")
    args = parser.parse_args(argv)
    start = time.time()
    steps = demo_commands(sys.executable, args.epochs)
    metrics_path = os.path.join(ROOT, OUTPUT, "metrics.jsonl")
    earlier = len(metrics_records(metrics_path))  # records of previous demo runs are not this run's
    outputs, config_shown_in = [], None
    for i, (title, cmd) in enumerate(steps):
        if title.startswith("Predict"):  # the video is picked from val.list, written by step 2
            cmd = demo_commands(sys.executable, args.epochs, first_val_video()[0])[i][1]
        outputs.append(run_step(i + 1, len(steps), title, cmd, config_shown_in))
        if cmd[1] == "main.py" and config_shown_in is None:
            config_shown_in = i + 1
    predict_out = outputs[7]
    results = demo_results(metrics_records(metrics_path)[earlier:])
    best_valid, test_top1 = results["best_valid_top1"], results["test_top1"]
    exported = sorted(f for f in os.listdir(os.path.join(ROOT, INFER_DIR)))
    video, label = first_val_video()
    with open(os.path.join(ROOT, DATA, "label_list.txt"), encoding="utf-8") as f:
        names = dict(line.split(maxsplit=1) for line in f.read().splitlines() if line.strip())
    prediction = " ".join(line.strip() for line in predict_out.splitlines() if line.startswith("\ttop-1"))
    print("\n" + "=" * 70)
    print("Demo summary")
    print(f"  best valid top1 : {best_valid if best_valid is not None else 'n/a'}")
    print(f"  test top1       : {test_top1 if test_top1 is not None else 'n/a'} (TenCrop x 25 segments)")
    print(f"  exported files  : {', '.join(os.path.join(INFER_DIR, f) for f in exported)}")
    print(f"  prediction      : {video} (true: {label} {names.get(str(label), '?')}) -> {prediction}")
    print(f"  training curves : {OUTPUT}/training_curves.png")
    print(f"  total time      : {time.time() - start:.0f} s")
    print("=" * 70)
    print("\n".join(next_steps()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
