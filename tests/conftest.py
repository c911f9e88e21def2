"""Shared test fixtures: a real clip committed with the tests, generated clips, and the larger real videos
in ../shared/data (tests using those skip when it is absent)."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import paddlevideo  # noqa: E402

paddlevideo.setup_runtime()  # as the entry points do: CPU runtime and console logging, before Paddle


def shared_file(name: str) -> str:
    """Path of ``../shared/data/<name>``; skips the test with a reason when it is not there."""
    path = os.path.join(SHARED_DATA, name)
    if not os.path.isfile(path):
        pytest.skip(f"{path} not found: the real test videos live in ../shared/data (absent in a user's clone)")
    return path


DEMO_CFG = os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_demo.yaml")
REAL_CLIP = os.path.join(ROOT, "tests", "data", "bigbuckbunny_2s.mp4")  # H.264 640x360, 50 frames


@pytest.fixture
def real_clip() -> str:
    """A real H.264 video in every clone: 2 s of Big Buck Bunny (tests/data/README.md)."""
    return REAL_CLIP


@pytest.fixture
def shared_data():
    """Callable: ``shared_data('example.avi')`` -> path, or skip."""
    return shared_file


def write_video(path: str, num_frames: int = 30, size=(96, 72), fps: int = 25, seed: int = 0,
                color=None) -> str:
    """Write a small MJPG .avi (or mp4v .mp4) whose frames differ (a moving bar over noise).

    ``size`` is (width, height). Frame i has a bright vertical bar at x = 3*i mod width, so
    decoders can be checked for picking the right frame. Returns ``path``.
    """
    import cv2
    width, height = size
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.endswith(".mp4") else "MJPG"))
    writer = cv2.VideoWriter(path, fourcc, fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cv2 cannot write {path}")
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
    for i in range(num_frames):
        frame = base.copy()
        if color is not None:
            frame[:] = np.asarray(color, dtype=np.uint8)
        x = (3 * i) % width
        frame[:, x:x + 4] = 255
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def make_video(tmp_path):
    """Callable writing a generated clip into the test's tmp dir: ``make_video('a.avi', num_frames=40)``."""
    def _make(name="clip.avi", **kwargs):
        return write_video(str(tmp_path / name), **kwargs)
    return _make


# ---------------------------------------------------------------- main.py runs on a generated rawframes set
def make_rawframes(root, per_class=6, num_frames=8, val_per_class=2, seed=0, size=(96, 72)):
    """Write ``root/rawframes/<class>/<clip>/img_00001.jpg ...`` and ``train.list`` / ``val.list``.

    Four visually distinct classes (red disc, green bars, blue checker, grey noise) with noise;
    list lines are ``<frame_dir> <num_frames> <label>``. Returns the folder.
    """
    import cv2
    from tools.make_demo_data import CLASSES, render_clip
    rng = np.random.default_rng(seed)
    frames_root = os.path.join(root, "rawframes")
    lists = {"train": [], "val": []}
    for label, name in enumerate(CLASSES):
        for i in range(per_class):
            rel = f"{name}/{name}_{i:03d}.avi"
            folder = os.path.join(frames_root, rel)
            os.makedirs(folder, exist_ok=True)
            for t, frame in enumerate(render_clip(label, rng, num_frames, size[0], size[1])):
                cv2.imwrite(os.path.join(folder, f"img_{t + 1:05d}.jpg"), frame)
            lists["val" if i < val_per_class else "train"].append(f"{rel} {num_frames} {label}")
    for split, lines in lists.items():
        with open(os.path.join(root, f"{split}_frames.list"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return root


def write_config(data_root, out_dir, path=None, epochs=2, batch_size=4, num_workers=0, test_num_seg=3,
                 **top):
    """The demo config pointed at ``data_root``, writing to ``out_dir``; returns the YAML path."""
    import yaml
    with open(DEMO_CFG, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    for split, list_name in (("train", "train"), ("valid", "val"), ("test", "val")):
        cfg["DATASET"][split]["data_prefix"] = os.path.join(data_root, "rawframes")
        cfg["DATASET"][split]["file_path"] = os.path.join(data_root, f"{list_name}_frames.list")
    cfg["DATASET"].update(batch_size=batch_size, valid_batch_size=batch_size, test_batch_size=2,
                          num_workers=num_workers)
    cfg["PIPELINE"]["test"]["sample"]["num_seg"] = test_num_seg
    cfg.update(epochs=epochs, output_dir=out_dir, log_interval=1, save_interval=1)
    cfg.update(top)
    path = path or os.path.join(os.path.dirname(out_dir), "config.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


def run_main(*args, cwd=ROOT, timeout=600, env=None, python=sys.executable):
    """``python main.py ARGS`` in a subprocess; returns the CompletedProcess (text). ``python`` may be the
    ``preloaded_python`` fixture: a fresh process without the wait for ``import paddle``."""
    return subprocess.run([python, os.path.join(ROOT, "main.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def preloaded_python(tmp_path_factory):
    """Path of a ``python`` whose scripts fork from one interpreter that has imported Paddle and paddlevideo
    (tests/preloaded_python.py): each run is a fresh process as far as the script can tell, without the
    1.5 s ``import paddle``. Not for tests of what happens before that import, nor for signals (a signal
    reaches the client, not the script)."""
    from preloaded_python import PreloadedPython
    bin_dir = tmp_path_factory.mktemp("preloaded_python")
    with PreloadedPython(bin_dir, os.environ, bin_dir / "server.log") as server:
        yield server.client


def main_in_process(*args, capsys=None):
    """``main_captured(*args)``: ``main.main(ARGS)`` in this process. ``capsys`` is accepted and unused (the
    output is captured by ``main_captured`` itself), so tests and wider fixtures share one helper."""
    return main_captured(*args)


def metrics_records(out_dir, event=None, mode=None):
    """The records of ``<out_dir>/metrics.jsonl``, optionally only one ``event`` and ``mode``."""
    from paddlevideo.tasks.metrics_log import read_metrics
    records = read_metrics(os.path.join(out_dir, "metrics.jsonl"))
    return [r for r in records if event in (None, r["event"]) and mode in (None, r["mode"])]


def epoch_values(out_dir, mode, name):
    """``name`` of every ``epoch`` record of ``mode`` (``train`` or ``val``), in order."""
    return [r[name] for r in metrics_records(out_dir, "epoch", mode)]


# ---------------------------------------------------------------- small exported models (export / predict tests)
SMALL = ["INFERENCE.num_seg=3"]  # demo config: ResNet-18, 64x64 crops, 4 classes -> input [N, 30, 3, 64, 64]


def load_tool(relpath, name):
    """Import the script ``ROOT/relpath`` as module ``name`` (registered, so worker processes can unpickle
    its functions by module name)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def small_config(num_classes=4):
    from paddlevideo.utils.config import get_config
    cfg = get_config(DEMO_CFG, overrides=SMALL, show=False)
    cfg.MODEL.head.num_classes = num_classes
    cfg.MODEL.head.std = 0.05  # logits of a useful size (default 0.01: near-uniform scores)
    return cfg


def make_checkpoint(path, num_classes=4, seed=0):
    """Save a randomly initialised small TSN; returns the dygraph model holding those weights."""
    import paddle
    from paddlevideo.modeling import build_model
    paddle.seed(seed)
    with paddle.utils.unique_name.guard():
        model = build_model(small_config(num_classes).MODEL)
    model.eval()
    paddle.save(model.state_dict(), str(path))
    return model


# ---------------------------------------------------------------- shared training runs (session fixtures)
def main_captured(*args):
    """``main.main(ARGS)`` in this process with stdout/stderr captured, usable where ``capsys`` is not (fixtures
    wider than one test); returns a CompletedProcess-like object (``returncode``, ``stdout``, ``stderr``);
    argparse's usage errors exit through ``SystemExit`` and are returned like a process's."""
    import contextlib
    import io
    import main as main_script
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # the logger writes to sys.stdout
        try:
            code = main_script.main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return subprocess.CompletedProcess(["main.py", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def small_frames(tmp_path_factory):
    """A small rawframes set shared by the training-guarantee tests: 4 classes x (3 train + 1 val) clips of
    6 frames, 48x36 (3 iterations of batch 4 per epoch); train it with ``write_small_config``."""
    return make_rawframes(str(tmp_path_factory.mktemp("small_frames")), per_class=4, num_frames=6,
                          val_per_class=1, size=(48, 36))


def write_small_config(data_root, out_dir, **kwargs):
    """``write_config`` with every split's frames scaled to 36 and cropped to 32x32 (a quarter of the demo's
    64x64 compute); returns the YAML path."""
    import yaml
    path = write_config(data_root, out_dir, **kwargs)
    with open(path, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    for split in ("train", "valid", "test"):
        scale, crop = cfg["PIPELINE"][split]["transform"][:2]
        scale["Scale"]["short_size"] = 36
        next(iter(crop.values()))["target_size"] = 32
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


REFERENCE_EPOCHS = 4


@pytest.fixture(scope="session")
def reference_run(small_frames, tmp_path_factory, preloaded_python):
    """One uninterrupted training on ``small_frames`` (REFERENCE_EPOCHS epochs, one DataLoader worker, every
    epoch saved), run once for every test that compares against it or reads its checkpoints. Returns
    ``{"out": folder, "cfg": config path}``; tests must not write into it (copy it first).

    A process of its own (forked from ``preloaded_python``): the resume tests compare .pdopt files written by
    fresh processes."""
    root = tmp_path_factory.mktemp("reference_run")
    out = str(root / "out")
    cfg = write_small_config(small_frames, out, path=str(root / "ref.yaml"), epochs=REFERENCE_EPOCHS,
                             num_workers=1)
    proc = run_main("-c", cfg, python=preloaded_python)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return {"out": out, "cfg": cfg}
