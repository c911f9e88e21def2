"""Where the first video's time goes, from process start: cold and warm file cache.

    python benchmarks/bench_first_video.py [--video PATH] [--precision fp32|bf16|int8] [--runs 2]

A random-weight ResNet-50 TSN is exported to a temp folder (int8: quantized with abs_max first). Then
each run starts a fresh process that does what ``tools/predict.py`` does and stamps each stage: the
interpreter's start, ``import paddlevideo`` + ``setup_runtime()``, ``import paddle``, reading the model
files (their bytes, from disk or the page cache), creating the ``Predictor`` (program load, graph
passes, oneDNN set-up), the first video (decode + preprocess + inference, whose first chunk creates the
oneDNN kernels) and a second, steady video. "cold" runs first evict Paddle's files, the model and the
video from the page cache (``posix_fadvise(DONTNEED)``; pages that other running processes have mapped
stay cached, so on a shared machine cold is a lower bound); "warm" runs follow a run that read them all.
"""
import time

STARTED = time.time()  # the child's "interpreter start" stage ends here, before any project import

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

STAGES = (("python", "interpreter start"), ("import_paddlevideo", "import paddlevideo + setup_runtime"),
          ("import_paddle", "import paddle"), ("read_model", "read model files"),
          ("create", "create Predictor"), ("first_video", "first video (preprocess + inference)"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "example.avi"))
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "int8"))
    parser.add_argument("--runs", type=int, default=2, help="cold and warm runs each")
    parser.add_argument("--model_dir", default=None,
                        help="an export folder to time instead of the random ResNet-50 (its precision as given)")
    parser.add_argument("--child", nargs=3, metavar=("MODEL_DIR", "VIDEO", "PRECISION"), help=argparse.SUPPRESS)
    return parser.parse_args()


def child(model_dir, video, precision):
    """The timed process: prints ``STAMPS {json}`` of absolute times after each stage."""
    stamps = {"python": STARTED}
    sys.path.insert(0, ROOT)
    import paddlevideo
    paddlevideo.setup_runtime()
    stamps["import_paddlevideo"] = time.time()
    from paddlevideo.utils.runtime import require_paddle
    require_paddle("bench_first_video.py")
    stamps["import_paddle"] = time.time()
    name = next(f[:-len(".pdmodel")] for f in os.listdir(model_dir) if f.endswith(".pdmodel"))
    for suffix in (".pdmodel", ".pdiparams"):
        with open(os.path.join(model_dir, name + suffix), "rb") as f:
            while f.read(1 << 24):
                pass
    stamps["read_model"] = time.time()
    from paddlevideo import Predictor
    predictor = Predictor(model_dir, precision=precision, use_gpu=False, disable_glog=True)
    stamps["create"] = time.time()
    split = [dict(getattr(predictor, "times").seconds)]
    predictor.predict(video)
    stamps["first_video"] = time.time()
    split.append(dict(predictor.times.seconds))
    predictor.predict(video)
    stamps["second_video"] = time.time()
    split.append(dict(predictor.times.seconds))
    print("STAMPS " + json.dumps({"stamps": stamps, "split": split}), flush=True)


def evict(paths):
    """Drop ``paths`` (files, or folders walked) from the page cache where no process maps them."""
    count = 0
    for top in paths:
        walk = [(os.path.dirname(top), [], [os.path.basename(top)])] if os.path.isfile(top) else os.walk(top)
        for folder, _, files in walk:
            for name in files:
                try:
                    fd = os.open(os.path.join(folder, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    count += 1
                finally:
                    os.close(fd)
    return count


def one_run(model_dir, video, precision):
    launch = time.time()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", model_dir, video, precision],
                          capture_output=True, text=True)
    end = time.time()
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("STAMPS ")), None)
    if line is None:
        raise SystemExit(f"child failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    data = json.loads(line[len("STAMPS "):])
    stamps, split = data["stamps"], data["split"]
    times, previous = {}, launch
    for key, _ in STAGES:
        times[key] = stamps[key] - previous
        previous = stamps[key]
    times["steady_video"] = stamps["second_video"] - stamps["first_video"]
    times["to_first_result"] = stamps["first_video"] - launch
    times["exit"] = end - stamps["second_video"]
    first = {k: split[1][k] - split[0][k] for k in ("preprocess", "inference")}
    steady = {k: split[2][k] - split[1][k] for k in ("preprocess", "inference")}
    times["first_inference"], times["steady_inference"] = first["inference"], steady["inference"]
    times["first_preprocess"], times["steady_preprocess"] = first["preprocess"], steady["preprocess"]
    return times


def prepare_model(workdir, precision, video):
    from bench_predict import export_resnet50
    export_resnet50(workdir, "NCHW", False, print)
    model_dir = os.path.join(workdir, "NCHW")
    if precision == "int8":
        from precision_check import quantize_model
        quantize_model(model_dir, os.path.join(workdir, "int8"), video, workdir, print)
        model_dir = os.path.join(workdir, "int8")
    return model_dir


def report(runs):
    print("\n| stage (s) | " + " | ".join(kind for kind, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    rows = [(key, text) for key, text in STAGES] + [
        ("first_preprocess", "  of which preprocess"), ("first_inference", "  of which inference"),
        ("steady_video", "steady video (second, same process)"), ("steady_inference", "  of which inference"),
        ("to_first_result", "process start -> first result")]
    for key, text in rows:
        print(f"| {text} | " + " | ".join(f"{times[key]:.2f}" for _, times in runs) + " |")
    print("| first result / steady video | " + " | ".join(
        f"{times['to_first_result'] / times['steady_video']:.2f}x" for _, times in runs) + " |")
    print("| first-run inference overhead (first - steady inference) | " + " | ".join(
        f"{times['first_inference'] - times['steady_inference']:.2f}" for _, times in runs) + " |")


def main():
    args = parse_args()
    if args.child:
        return child(*args.child)
    import common  # noqa: F401  (the parent: CPU runtime before numpy/paddle start)
    print(f"machine: {common.machine_line()}")
    workdir = tempfile.mkdtemp(prefix="bench_first_")
    try:
        model_dir = args.model_dir or prepare_model(workdir, args.precision, args.video)
        import paddle
        paddle_files = [os.path.dirname(paddle.__file__)]
        runs = []
        for i in range(args.runs):
            count = evict(paddle_files + [model_dir, args.video])
            runs.append((f"cold {i + 1}", one_run(model_dir, args.video, args.precision)))
            print(f"cold run {i + 1} ({count} files evicted): {runs[-1][1]}", flush=True)
            runs.append((f"warm {i + 1}", one_run(model_dir, args.video, args.precision)))
            print(f"warm run {i + 1}: {runs[-1][1]}", flush=True)
        print("load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
        report(runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
