"""Data pipeline throughput: decoding backends, sampled vs whole-video decoding, train/test transforms, loader.

    python benchmarks/bench_pipeline.py                  # a 10 s clip looped from tests/data/bigbuckbunny_2s.mp4
    python benchmarks/bench_pipeline.py --videos DIR     # the videos of DIR as they are (e.g. Kinetics clips)

Without ``--videos`` it makes a 10 s H.264 clip (like Kinetics) in a temp folder, looping the 2 s source. Every figure is best-of-``--repeats`` per clip, summed over
clips, all in one run, beside the machine's fp32 GEMM rate (compare runs as ratios).

The "PaddleVideo-like" baseline is written here: read every frame with cv2, sample, then PIL-image ops
(cv2 resizes wrapped in PIL images, PIL crops and flips, ``np.stack(...).astype(float32)``), which is
how PaddleVideo's cv2 path and its TSN transforms work.
"""
import argparse
import glob
import os
import random
import sys
import tempfile
import time

import common  # noqa: F401  (sets the CPU runtime before numpy/paddle start)
from common import machine_line, measure_gemm_gflops

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from paddlevideo.loader import build_dataloader, build_dataset, build_pipeline  # noqa: E402
from paddlevideo.loader.pipelines import Sampler  # noqa: E402
from paddlevideo.loader.pipelines.readers import VIDEO_READERS  # noqa: E402
from paddlevideo.utils.config import get_config  # noqa: E402

CONFIG = os.path.join(common.ROOT, "configs", "recognition", "tsn", "tsn_k400_videos.yaml")
DEFAULT_SOURCE = os.path.join(common.ROOT, "tests", "data", "bigbuckbunny_2s.mp4")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
BACKENDS = ("cv2", "decord", "pyav")


# ----------------------------------------------------------------------------------------------- clips
def make_clips(out_dir, sources, seconds=10.0):
    """10 s H.264 clips (x264 defaults, yuv420p) from the ``sources`` videos; loops short ones."""
    import av
    clips = []
    for src in sources:
        with av.open(src) as container:
            stream = container.streams.video[0]
            fps = stream.average_rate or 25
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        want = int(round(float(fps) * seconds))
        dst = os.path.join(out_dir, os.path.splitext(os.path.basename(src))[0] + "_10s.mp4")
        with av.open(dst, "w") as out:
            vs = out.add_stream("libx264", rate=fps)
            h, w = frames[0].shape[:2]
            vs.width, vs.height, vs.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
            for i in range(want):
                frame = frames[i % len(frames)][:vs.height, :vs.width]
                for packet in vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    out.mux(packet)
            for packet in vs.encode():
                out.mux(packet)
        clips.append(dst)
    return clips


def describe(path):
    cap = cv2.VideoCapture(path)
    n, w, h = (int(cap.get(p)) for p in (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH,
                                         cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    return n, w, h


# ------------------------------------------------------------------------------ PaddleVideo-like path
def read_whole_video_cv2(path):
    """Every frame ``cap.read()``, kept in memory as an RGB view (PaddleVideo's cv2 VideoDecoder)."""
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr[:, :, ::-1])
    cap.release()
    return frames


def baseline_scale(imgs, short):
    from PIL import Image
    out = []
    for img in imgs:
        arr = np.asarray(img)
        h, w = arr.shape[:2]
        if min(h, w) == short:
            out.append(Image.fromarray(arr))
            continue
        sf = short / min(h, w)
        size = (int(w * sf + 0.5), int(h * sf + 0.5))
        out.append(Image.fromarray(cv2.resize(arr, size, interpolation=cv2.INTER_LINEAR)))
    return out


def baseline_to_array_normalize(imgs):
    arr = np.stack([np.asarray(i) for i in imgs]).astype("float32").transpose(0, 3, 1, 2)
    arr = arr / 255.0
    arr -= np.array(MEAN, np.float32).reshape(3, 1, 1)
    arr /= np.array(STD, np.float32).reshape(3, 1, 1)
    return arr


def baseline_train(path, sampler, backend="cv2"):
    """PaddleVideo's train path: decode (cv2: whole video; decord: get_batch of the picks), PIL-image ops."""
    from PIL import Image
    if backend == "cv2":
        frames = read_whole_video_cv2(path)
        imgs = [frames[i] for i in sampler.indices(len(frames), "video")]
    else:
        import decord
        vr = decord.VideoReader(path)
        imgs = list(vr.get_batch(sampler.indices(len(vr), "video")).asnumpy())
    imgs = baseline_scale(imgs, 256)
    w, h = imgs[0].size
    cw = ch = int(min(w, h) * random.choice([1, .875, .75, .66]))
    ox, oy = random.choice([(0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch), ((w - cw) / 2, (h - ch) / 2)])
    imgs = [Image.fromarray(cv2.resize(np.asarray(i.crop((ox, oy, ox + cw, oy + ch))), (224, 224),
                                       interpolation=cv2.INTER_LINEAR)) for i in imgs]
    if random.random() < 0.5:
        imgs = [i.transpose(Image.FLIP_LEFT_RIGHT) for i in imgs]
    return baseline_to_array_normalize(imgs)


def baseline_test_transforms(frames):
    from PIL import Image
    imgs = baseline_scale(frames, 256)
    w, h = imgs[0].size
    ws, hs = (w - 224) // 4, (h - 224) // 4
    crops = []
    for x, y in [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]:
        part = [i.crop((x, y, x + 224, y + 224)) for i in imgs]
        crops += part + [p.transpose(Image.FLIP_LEFT_RIGHT) for p in part]
    return baseline_to_array_normalize(crops)


# ----------------------------------------------------------------------------------------------- timing
def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        random.seed(0)
        np.random.seed(0)
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def pipeline_for(cfg, mode, backend):
    pipe = cfg.PIPELINE[mode]
    pipe.decode.backend = backend
    return build_pipeline(pipe)


def sampled_read(path, backend, sampler):
    reader = VIDEO_READERS[backend](path)
    try:
        return reader.read(sampler.indices(reader.frames_len, "video"))
    finally:
        reader.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", help="folder of videos to use as they are (default: a 10 s clip "
                                         "looped from tests/data/bigbuckbunny_2s.mp4)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loader_epochs", type=int, default=2, help="passes over the clips for the loader figure")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # as in DataLoader workers: one thread each

    print(machine_line())
    gemm = measure_gemm_gflops()
    print(f"fp32 GEMM (numpy 2048^2): {gemm:.0f} GFLOP/s")
    tmp = None
    if args.videos:
        clips = sorted(p for p in glob.glob(os.path.join(args.videos, "*"))
                       if p.lower().endswith((".mp4", ".avi", ".mkv", ".webm", ".mov")))
    else:
        tmp = tempfile.TemporaryDirectory()
        clips = make_clips(tmp.name, [DEFAULT_SOURCE])
    if not clips:
        sys.exit("bench_pipeline: no videos found" + (f" in {args.videos}" if args.videos else ""))
    for c in clips:
        n, w, h = describe(c)
        print(f"clip {os.path.basename(c)}: {n} frames, {w}x{h}")
    n_clips = len(clips)
    cfg = get_config(CONFIG, show=False)
    train_sampler = Sampler(3, 1, valid_mode=False, select_left=True)
    names = [os.path.splitext(os.path.basename(c))[0][:22] for c in clips]

    def table(title, columns, ratio_of=None):
        """Run ``columns`` ({label: fn(clip)}) on every clip; print ms per clip, then the per-clip mean."""
        print(f"\n== {title} (ms per video, best of {args.repeats}) ==")
        print(f"{'clip':24s}" + "".join(f"{label:>16s}" for label in columns)
              + (f"{'speed-up':>10s}" if ratio_of else ""))
        times = {label: [] for label in columns}
        for name, clip in zip(names, clips):
            row = {label: best_time(lambda f=fn: f(clip), args.repeats) for label, fn in columns.items()}
            for label, t in row.items():
                times[label].append(t)
            extra = f"{row[ratio_of[0]] / row[ratio_of[1]]:9.2f}x" if ratio_of else ""
            print(f"{name:24s}" + "".join(f"{1e3 * t:16.1f}" for t in row.values()) + extra)
        mean = {label: sum(v) / n_clips for label, v in times.items()}
        extra = f"{mean[ratio_of[0]] / mean[ratio_of[1]]:9.2f}x" if ratio_of else ""
        print(f"{'mean':24s}" + "".join(f"{1e3 * t:16.1f}" for t in mean.values()) + extra)
        print(f"{'videos/s':24s}" + "".join(f"{1 / t:16.1f}" for t in mean.values()))
        return times

    decode_cols = {"cv2 whole video": read_whole_video_cv2}
    for backend in BACKENDS:
        decode_cols[f"{backend} sampled"] = lambda c, b=backend: sampled_read(c, b, train_sampler)
    dec = table("Decoding the 3 train frames: whole video (PaddleVideo's cv2 path) vs sampled frames only",
                decode_cols, ratio_of=("cv2 whole video", "cv2 sampled"))
    ratios = [w / t for w, t in zip(dec["cv2 whole video"], dec["cv2 sampled"])]
    print(f"cv2 sampled vs whole video, per clip: {', '.join(f'{r:.2f}x' for r in ratios)} "
          f"(goal >= 2x); frames held per clip: 3 instead of {', '.join(str(describe(c)[0]) for c in clips)}")

    train_cols = {"PV cv2+PIL": lambda c: baseline_train(c, train_sampler, "cv2"),
                  "PV decord+PIL": lambda c: baseline_train(c, train_sampler, "decord")}
    for backend in BACKENDS:
        pipe = pipeline_for(cfg, "train", backend)
        train_cols[f"ours {backend}"] = lambda c, p=pipe: p({"filename": c, "labels": 0})
    tr = table("Train pipeline: decode 3 frames, Scale 256, MultiScaleCrop 224, flip, normalise "
               "(PV = PaddleVideo-like baseline)", train_cols)
    for base in ("PV cv2+PIL", "PV decord+PIL"):
        best = {b: sum(tr[base]) / sum(tr[f"ours {b}"]) for b in BACKENDS}
        print(f"vs {base}: " + ", ".join(f"ours {b} {r:.2f}x" for b, r in best.items()) + " (goal >= 2x)")

    test_sampler = Sampler(25, 1, valid_mode=True, select_left=True)
    decoded = {c: np.stack(sampled_read(c, "decord", test_sampler)) for c in clips}
    transform_only = build_pipeline({"transform": cfg.PIPELINE.test.transform})
    test_cols = {"PV PIL ops": lambda c: baseline_test_transforms(list(decoded[c])),
                 "ours ops": lambda c: transform_only({"imgs": decoded[c]})}
    for backend in BACKENDS:
        pipe = pipeline_for(cfg, "test", backend)
        test_cols[f"ours {backend} all"] = lambda c, p=pipe: p({"filename": c, "labels": 0})
    te = table("Test pipeline: 25 frames, Scale 256, TenCrop 224 -> 250 crops, normalise "
               "('ops': transforms only; 'all': with decoding)", test_cols, ratio_of=("PV PIL ops", "ours ops"))
    print(f"TenCrop x 25 transforms: {1e3 * sum(te['ours ops']) / n_clips:.1f} ms per video (goal <= 150 ms)")

    print("\n== DataLoader, 2 workers, train pipeline, batch 8 ==")
    lst = os.path.join(tmp.name if tmp else tempfile.mkdtemp(), "bench.list")
    with open(lst, "w") as f:
        for i in range(8):
            for c in clips:
                f.write(f"{c} {i}\n")
    for backend in ("cv2", "decord"):
        pipe = cfg.PIPELINE.train
        pipe.decode.backend = backend
        ds = build_dataset({"format": "VideoDataset", "file_path": lst}, pipe)
        loader = build_dataloader(ds, batch_size=8, num_workers=2, shuffle=True, drop_last=True, seed=0)
        seen, start = 0, None
        for epoch in range(args.loader_epochs):
            loader.batch_sampler.set_epoch(epoch)
            for imgs, _ in loader:
                if start is None:  # the first batch pays for starting the workers
                    start = time.perf_counter()
                    continue
                seen += imgs.shape[0]
        elapsed = time.perf_counter() - start
        loader_rate = seen / elapsed
        # ResNet-50 TSN training step: ~3.1 frames/s at ~170 GFLOP/s GEMM (bench_model), 3 frames a video.
        need = 3.1 * gemm / 170 / 3
        print(f"loader ({backend}, 2 workers): {loader_rate:.1f} videos/s on both cores; ResNet-50 training "
              f"consumes ~{need:.1f} videos/s, so feeding it takes ~{100 * need / loader_rate:.0f}% of the "
              f"machine's CPU (keeps up: {'yes' if loader_rate > need else 'NO'})")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
