"""`make demo`: the whole product end to end on a small generated dataset, in minutes on a CPU.

Steps (each prints the command a user would type, then runs it):
  1. build data/demo/ (generated videos of 4 classes, train/val lists)
  2. extract rawframes and write the frame list files
  3. train TSN (ResNet-18, 64x64) with --validate
  4. test the best checkpoint (TenCrop x 25 segments)
  5. export to .pdmodel/.pdiparams
  6. predict one demo video with Paddle Inference
  7. plot the training curves
and ends with a summary (valid top1, test top1, exported files, prediction, total time).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def run_step(index: int, total: int, title: str, argv) -> str:
    shown = " ".join(shlex.quote(a) for a in ["python"] + argv[1:])
    print(f"\n[{index}/{total}] {title}\n$ {shown}", flush=True)
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    if proc.wait() != 0:
        print(f"\ndemo: step {index} failed (exit code {proc.returncode}): {shown}", file=sys.stderr)
        raise SystemExit(proc.returncode or 1)
    return "".join(lines)


def metrics_records(path: str) -> list:
    """The records of a ``metrics.jsonl`` (empty when it does not exist yet)."""
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def demo_results(records: list) -> dict:
    """``{"best_valid_top1", "test_top1"}`` from this demo's ``metrics.jsonl`` records (``None`` if absent)."""
    valid = [r["top1"] for r in records if r["event"] == "epoch" and r["mode"] == "val"]
    tests = [r["avg_acc1"] for r in records if r["event"] == "test"]
    return {"best_valid_top1": max(valid) if valid else None, "test_top1": tests[-1] if tests else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=None, help="override the demo config's epochs")
    args = parser.parse_args(argv)
    start = time.time()
    steps = demo_commands(sys.executable, args.epochs)
    metrics_path = os.path.join(ROOT, OUTPUT, "metrics.jsonl")
    earlier = len(metrics_records(metrics_path))  # records of previous demo runs are not this run's
    outputs = []
    for i, (title, cmd) in enumerate(steps):
        if title.startswith("Predict"):  # the video is picked from val.list, written by step 2
            cmd = demo_commands(sys.executable, args.epochs, first_val_video()[0])[i][1]
        outputs.append(run_step(i + 1, len(steps), title, cmd))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
