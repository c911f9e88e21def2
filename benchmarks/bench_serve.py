"""Load on deploy/python_serving/serve.py: throughput, latency, answers and server memory under concurrent clients.

    python benchmarks/bench_serve.py [--model_dir inference/TSN] [--video PATH] [--levels 1,2,8] [--requests 12]
                                     [--pool_sizes 1] [--precision fp32]

In one run: ``tools/predict.py``'s steady per-video rate on the same model and video (``--enable_benchmark``:
after one untimed warm-up video), then per pool size a service on 127.0.0.1 (one untimed warm-up request),
then per level N clients at once sharing ``--requests`` requests. A client that gets 503 waits the
``Retry-After`` it was given before taking the next request; every request counts once, whatever its answer.
Reported per level: 200 / 503 / other answers, videos/s (200 answers over the level's wall time) against
predict.py's rate, p50 and p95 latency of the 200 answers; per pool size the server's peak RSS (VmHWM).
Without ``--model_dir`` a random-weight ResNet-50 TSN (400 classes) is exported to a temp folder first.
Whole run at the defaults: 10-13 minutes on 2 shared Zen 4 cores.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import common  # noqa: F401  (CPU runtime before numpy/paddle start)
from common import machine_line

SERVE = os.path.join(common.ROOT, "deploy", "python_serving", "serve.py")
PREDICT = os.path.join(common.ROOT, "tools", "predict.py")
SHARED_VIDEO = os.path.join(os.path.dirname(common.ROOT), "shared", "data", "example.avi")
STARTED = re.compile(r"serving \S+ .* on (http://[\d.]+:\d+)/ ")
RATE = re.compile(r"; ([\d.]+) videos/s$", re.M)
MAX_RETRY_WAIT = 30  # seconds a client waits at most after a 503


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model_dir", default=None, help="an export folder (default: a random ResNet-50 TSN)")
    parser.add_argument("--video", default=SHARED_VIDEO, help="the video every request uploads")
    parser.add_argument("--levels", default="1,2,8", help="comma-separated numbers of concurrent clients")
    parser.add_argument("--requests", type=int, default=12, help="requests per level")
    parser.add_argument("--pool_sizes", default="1", help="comma-separated serve.py --pool_size values to compare")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"])
    parser.add_argument("--max_queue", type=int, default=4, help="serve.py --max_queue")
    parser.add_argument("--baseline_videos", type=int, default=3, help="timed videos of predict.py's steady rate")
    return parser.parse_args()


def log(text):
    print(text, flush=True)


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def predict_py_rate(model_dir, video, precision, videos, workdir) -> dict:
    """``tools/predict.py`` on ``videos`` copies of ``video``, timed after its own untimed warm-up run."""
    listing = os.path.join(workdir, "videos.txt")
    with open(listing, "w", encoding="utf-8") as f:
        f.write(f"{os.path.abspath(video)}\n" * videos)
    model = [os.path.join(model_dir, n) for n in sorted(os.listdir(model_dir)) if n.endswith(".pdmodel")][0]
    cmd = [sys.executable, PREDICT, "-i", listing, "--model_file", model, "--params_file",
           model[:-len(".pdmodel")] + ".pdiparams", "--use_gpu", "False", "--precision", precision,
           "--enable_benchmark", "True", "--output_json", os.path.join(workdir, "predict.json")]
    _, rss, code, out, err = common.run_measured(cmd)
    match = RATE.search(out)
    if code != 0 or not match:
        raise SystemExit(f"predict.py failed (exit {code}): {(err.strip().splitlines() or ['?'])[-1]}")
    with open(os.path.join(workdir, "predict.json"), encoding="utf-8") as f:
        top1 = json.load(f)["results"][0]["top_k"][0]["class"]
    return {"rate": float(match.group(1)), "rss_mb": rss, "top1": top1}


class Service:
    """serve.py on 127.0.0.1 (any free port) with its log in ``workdir``."""

    def __init__(self, model_dir, precision, pool_size, max_queue, workdir):
        self.log_path = os.path.join(workdir, f"serve_pool{pool_size}.log")
        self.log_file = open(self.log_path, "w", encoding="utf-8")
        cmd = [sys.executable, SERVE, "--model_dir", model_dir, "--port", "0", "--precision", precision,
               "--pool_size", str(pool_size), "--max_queue", str(max_queue), "--upload_dir", workdir]
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT)
        end = time.monotonic() + 600
        while time.monotonic() < end and self.proc.poll() is None:
            match = STARTED.search(self.text())
            if match:
                self.url = match.group(1)
                return
            time.sleep(0.2)
        raise SystemExit(f"serve.py did not start: {self.text()[-1000:]}")

    def text(self) -> str:
        with open(self.log_path, encoding="utf-8") as f:
            return f.read()

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(600)
        self.log_file.close()
        return code


def one_request(client, url, data, name):
    """``(status or exception name, seconds, Retry-After or None)``."""
    start = time.perf_counter()
    try:
        response = client.post(url + "/predict", files={"file": (name, data)})
        status, retry = response.status_code, response.headers.get("Retry-After")
    except Exception as err:  # a dropped connection is an answer we count, not a crash of the benchmark
        status, retry = type(err).__name__, None
    return status, time.perf_counter() - start, retry


def run_level(url, data, name, clients, requests) -> dict:
    """``clients`` threads share ``requests`` requests; returns answers, wall time and latencies."""
    import httpx
    remaining = [requests]
    lock = threading.Lock()
    answers = []

    def client_loop():
        with httpx.Client(timeout=3600) as client:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                status, seconds, retry = one_request(client, url, data, name)
                with lock:
                    answers.append((status, seconds))
                if status == 503:
                    time.sleep(min(MAX_RETRY_WAIT, float(retry or 1)))  # a polite client honours Retry-After

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ok = sorted(s for status, s in answers if status == 200)
    return {"clients": clients, "requests": len(answers), "ok": len(ok),
            "busy": sum(1 for status, _ in answers if status == 503),
            "other": [status for status, _ in answers if status not in (200, 503)],
            "wall": wall, "rate": len(ok) / wall, "p50": percentile(ok, 50), "p95": percentile(ok, 95)}


def percentile(sorted_values, q):
    """Nearest-rank percentile (``nan`` for no values)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-q * len(sorted_values) // 100))
    return sorted_values[int(rank) - 1]


def main():
    args = parse_args()
    log(f"machine: {machine_line()}")
    log(f"start: {load_line()}")
    if not os.path.isfile(args.video):
        raise SystemExit(f"--video {args.video}: not found")
    with open(args.video, "rb") as f:
        data = f.read()
    name = os.path.basename(args.video)
    workdir = tempfile.mkdtemp(prefix="bench_serve_")
    try:
        model_dir = args.model_dir
        if model_dir is None:
            from bench_predict import export_resnet50
            export_resnet50(workdir, "NCHW", False, log)
            model_dir = os.path.join(workdir, "NCHW")
        base = predict_py_rate(model_dir, args.video, args.precision, args.baseline_videos, workdir)
        log(f"predict.py steady: {base['rate']:.4f} videos/s ({1 / base['rate']:.2f} s/video), "
            f"peak RSS {base['rss_mb']:.0f} MB, top-1 class {base['top1']}")
        rows = []
        for pool_size in [int(p) for p in args.pool_sizes.split(",") if p]:
            service = Service(model_dir, args.precision, pool_size, args.max_queue, workdir)
            try:
                import httpx
                with httpx.Client(timeout=3600) as client:
                    warm = client.post(service.url + "/predict", files={"file": (name, data)})
                if warm.status_code != 200 or warm.json()["top_k"][0]["class"] != base["top1"]:
                    raise SystemExit(f"warm-up request: {warm.status_code} {warm.text[:200]}")
                for clients in [int(c) for c in args.levels.split(",") if c]:
                    row = run_level(service.url, data, name, clients, args.requests)
                    row.update(pool=pool_size, rss=service.peak_rss_mb())
                    rows.append(row)
                    log(f"pool {pool_size}, {clients} clients: {row['ok']} x 200, {row['busy']} x 503, "
                        f"other {row['other']}, {row['rate']:.4f} videos/s ({100 * row['rate'] / base['rate']:.0f}% "
                        f"of predict.py), p50 {row['p50']:.1f} s, p95 {row['p95']:.1f} s, {load_line()}")
            finally:
                code = service.stop()
                log(f"pool {pool_size}: serve.py exit status after SIGTERM: {code}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log(f"end: {load_line()}")
    log("")
    log(f"predict.py steady rate: {base['rate']:.4f} videos/s; peak RSS {base['rss_mb']:.0f} MB")
    log("| pool | clients | requests | 200 | 503 | other | videos/s | % of predict.py | p50 s | p95 s | "
        "server peak RSS MB |")
    log("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        log(f"| {r['pool']} | {r['clients']} | {r['requests']} | {r['ok']} | {r['busy']} | {len(r['other'])} | "
            f"{r['rate']:.4f} | {100 * r['rate'] / base['rate']:.0f}% | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['rss']:.0f} |")


if __name__ == "__main__":
    main()
