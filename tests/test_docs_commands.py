"""Every command in a ```bash block of README.md and docs/*.md runs, as written.

Commands run in document order inside a sandbox workspace that looks like the repository root:
code is linked in, `data/demo`, `data/custom`-style folders and a miniature Kinetics-400 tree
(`data/k400/videos/{train,val}/<class>/`) are generated, and the configs are stand-ins of the real
ones with the same file names but a tiny model and input (ResNet-18, 32x32, few segments, few
epochs), so that every documented command finishes in seconds (the demo config trains 2 epochs, not 10). Outputs of earlier commands
(checkpoints, exports) are there for later ones, as for a user following the page; the sandbox is
also seeded with a trained-for-one-step checkpoint and an export so that pages can run in any order.

The sandbox's ``python`` is the same interpreter with Paddle and paddlevideo already imported (the
``preloaded_python`` fixture, tests/preloaded_python.py): each ``python script.py``, ``-c`` or ``-m``, and
each worker ``paddle.distributed.launch`` starts, forks from it and runs as ``__main__``, so a command
costs its work and not a 1.5 s ``import paddle``.

Commands that cannot run on one CPU machine are listed in SKIP with the reason, and commands that
are documented to fail here (TensorRT on a CPU build) in EXPECTED_EXIT with their exit code. Any
other documented command that fails is a test failure: the docs cannot rot.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import write_video

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC_FILES = ["docs/data.md", "docs/config.md", "docs/train.md", "docs/model.md", "docs/distributed.md",
             "docs/export.md", "docs/predict.md", "docs/deployment_gpu_tensorrt.md", "docs/demo.md",
             "docs/differences.md", "docs/performance.md", "docs/weights.md", "docs/serving.md",
             "docs/quantization.md", "docs/guarantees.md", "README.md"]

SKIP = [
    (r"^make\b", "make test is what CI runs; make demo runs the docs/demo.md commands, which this file runs one by one"),
    (r"\bpip install\b", "installs packages"),
    (r"--nnodes|--master\b", "needs several machines"),
    (r"--gpus\b|CUDA_VISIBLE_DEVICES", "needs GPUs"),
    (r"^python benchmarks/", "benchmarks take minutes at full size (their figures are in docs/performance.md)"),
    (r"^git\b|^cd \S+ && git", "touches the repository"),
]
EXPECTED_EXIT = [
    (r"--use_tensorrt True", 2),  # a CPU build has no TensorRT: one line, exit code 2 (documented)
]

SHRINK_COMMON = [
    "MODEL.backbone.depth=18", "MODEL.backbone.pretrained=''", "MODEL.head.in_channels=512",
    "MODEL.head.num_classes=4", "DATASET.batch_size=2", "DATASET.valid_batch_size=2",
    "DATASET.num_workers=0", "log_interval=1",
    "PIPELINE.train.transform.0.Scale.short_size=40", "PIPELINE.train.transform.1.MultiScaleCrop.target_size=32",
    "PIPELINE.valid.transform.0.Scale.short_size=40", "PIPELINE.valid.transform.1.CenterCrop.target_size=32",
    "PIPELINE.test.transform.0.Scale.short_size=40", "PIPELINE.test.transform.1.TenCrop.target_size=32",
    "PIPELINE.test.sample.num_seg=3", "INFERENCE.num_seg=3", "INFERENCE.target_size=32", "INFERENCE.short_size=40",
]
K400_CLASSES = ["abseiling", "archery", "bowling", "juggling_balls"]


def extract_commands(text: str):
    """``(line_number, command)`` for each command in the ```bash blocks of ``text``."""
    commands, in_block, pending, start = [], False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_block = (not in_block) and stripped[3:].strip() in ("bash", "sh", "shell")
            pending = ""
            continue
        if not in_block or (not pending and (not stripped or stripped.startswith("#"))):
            continue
        if not pending:
            start = number
        pending += line + "\n"
        if pending.rstrip().endswith("\\"):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on (python -c "...")
            continue
        commands.append((start, pending.strip()))
        pending = ""
    return commands


def collect():
    items, first = [], {}
    for rel in DOC_FILES:
        path = os.path.join(ROOT, rel)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                for line, cmd in extract_commands(f.read()):
                    where = f"{rel}:{line}"
                    same = first.setdefault(" ".join(cmd.split()), where)
                    marks = [] if same == where else [pytest.mark.skip(reason=f"the same command as {same}, run there")]
                    items.append(pytest.param(cmd, id=where, marks=marks))
    return items


def _shrink_config(name, extra, out_dir, common=SHRINK_COMMON):
    from paddlevideo.utils.config import override_config, parse_config, save_config
    cfg = parse_config(os.path.join(ROOT, "configs/recognition/tsn", name))
    override_config(cfg, list(common) + extra)
    save_config(cfg, out_dir, name)


# The quantization configs calibrate the sandbox's tiny export (ResNet-18, 32x32 crops) on 2 batches.
SHRINK_QUANT = ["PIPELINE.quant.transform.0.Scale.short_size=40", "PIPELINE.quant.transform.1.CenterCrop.target_size=32",
                "PIPELINE.quant.sample.num_seg=3", "DATASET.batch_nums=2"]


def _run(argv, cwd, env):
    out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{argv} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, preloaded_python):
    ws = tmp_path_factory.mktemp("docs_ws")
    for name in ("main.py", "paddlevideo", "tools", "deploy", "benchmarks", "setup.py", "README.md", "docs"):
        if os.path.exists(os.path.join(ROOT, name)):
            os.symlink(os.path.join(ROOT, name), ws / name)
    (ws / "data" / "k400").mkdir(parents=True)
    for script in os.listdir(os.path.join(ROOT, "data", "k400")):
        if script.endswith(".py"):
            os.symlink(os.path.join(ROOT, "data", "k400", script), ws / "data" / "k400" / script)
    path = [os.path.dirname(preloaded_python), os.path.dirname(sys.executable), os.environ.get("PATH", "")]
    env = dict(os.environ, PATH=os.pathsep.join(path), PYTHONPATH=str(ws), PYTHONUNBUFFERED="1")
    py = preloaded_python
    # Miniature Kinetics-400: 4 classes, 3 train + 1 val clip each.
    for split, count in (("train", 3), ("val", 1)):
        for label, cls in enumerate(K400_CLASSES):
            folder = ws / "data" / "k400" / "videos" / split / cls
            folder.mkdir(parents=True)
            for i in range(count):
                write_video(str(folder / f"{cls}_{i}.mp4"), num_frames=12, size=(64, 48), seed=label * 10 + i,
                            color=[(40, 40, 200), (40, 200, 40), (200, 40, 40), (200, 200, 200)][label])
    k = "data/k400"
    for split, out in (("train", "train"), ("val", "val")):
        _run([py, f"{k}/build_file_list.py", f"{k}/videos/{split}", "--format", "videos", "--out", f"{k}/{out}.list",
              "--label_list", f"{k}/Kinetics-400_label_list.txt"], ws, env)
        _run([py, f"{k}/extract_rawframes.py", f"{k}/videos/{split}", f"{k}/rawframes/{split}"], ws, env)
        _run([py, f"{k}/build_file_list.py", f"{k}/rawframes/{split}", "--format", "rawframes",
              "--out", f"{k}/{out}_frames.list", "--label_list", f"{k}/Kinetics-400_label_list.txt"], ws, env)
    # The demo dataset, as tools/demo.py builds it (smaller).
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import demo
    for title, argv in demo.demo_commands(py)[:4]:
        if argv[1] == "tools/make_demo_data.py":
            argv = argv + ["--per_class", "4", "--frames", "16"]
        _run(argv, ws, env)
    # Stand-in configs: same names, tiny sizes.
    cfg_dir = str(ws / "configs" / "recognition" / "tsn")
    prefixes = []
    for mode, split in (("train", "train"), ("valid", "val"), ("test", "val")):
        prefixes.append(f"DATASET.{mode}.data_prefix={k}/rawframes/{split}")
    _shrink_config("tsn_k400_frames.yaml", prefixes + ["epochs=1"], cfg_dir)
    _shrink_config("tsn_k400_videos.yaml", [p.replace("rawframes", "videos") for p in prefixes] + [
        "epochs=1", "PIPELINE.train.decode.backend=cv2", "PIPELINE.valid.decode.backend=cv2",
        "PIPELINE.test.decode.backend=cv2"], cfg_dir)
    # 2 epochs: checkpoints after epoch 1 (always) and the last, as the real 10-epoch config saves epoch 1.
    _shrink_config("tsn_demo.yaml", ["epochs=2"], cfg_dir)
    _shrink_config("tsn_k400_frames_quantization.yaml", [f"DATASET.quant.data_prefix={k}/rawframes/val"], cfg_dir,
                   SHRINK_QUANT)
    _shrink_config("tsn_k400_videos_quantization.yaml", ["PIPELINE.quant.decode.backend=cv2"], cfg_dir, SHRINK_QUANT)
    # A video where the README expects one, and a checkpoint + export for pages read out of order.
    shutil.copy(ws / k / "videos" / "val" / "archery" / "archery_0.mp4", ws / "data" / "example.avi")
    _run([py, "main.py", "--validate", "-c", "configs/recognition/tsn/tsn_k400_frames.yaml",
          "--max_iters", "1"], ws, env)
    os.makedirs(ws / "output" / "TSN", exist_ok=True)
    best = ws / "output" / "TSN" / "TSN_best.pdparams"
    if not best.exists():
        shutil.copy(ws / "output" / "TSN" / "TSN_epoch_00001.pdparams", best)
    _run([py, "tools/export_model.py", "-c", "configs/recognition/tsn/tsn_k400_frames.yaml",
          "-p", str(best), "-o", "inference/TSN"], ws, env)
    return ws, env


COMMANDS = collect()
pytestmark = pytest.mark.slow  # every documented command is a real process in the sandbox


def as_fresh_run(command: str) -> str:
    """Each page is read as if followed from a fresh checkout, but the sandbox already holds checkpoints from
    other pages (and its seed), which a new training run refuses to overwrite: such a documented training
    runs here with --overwrite. Resumes, tests and commands that say --overwrite themselves run as written.
    Every documented training (and resume) stops each epoch after 2 iterations (``--max_iters 2``): the
    command still parses, builds, trains, validates and saves every checkpoint it promises, in less time."""
    trains = re.search(r"\bmain\.py\b", command) and not re.search(r"--test\b", command)
    if trains and "--max_iters" not in command:
        command = re.sub(r"\bmain\.py\b", "main.py --max_iters 2", command, count=1)
    fresh = trains and not re.search(r"--resume\b|resume_epoch=|--overwrite", command)
    return re.sub(r"\bmain\.py\b", "main.py --overwrite", command, count=1) if fresh else command


def test_docs_have_commands():
    assert len(COMMANDS) >= 15, "the docs lost their commands, or the extractor broke"


@pytest.mark.parametrize("command", COMMANDS)
def test_documented_command_runs(command, sandbox):
    for pattern, reason in SKIP:
        if re.search(pattern, command):
            pytest.skip(reason)
    assert "..." not in command and not re.search(r"\b(CFG|W\.pdparams|YOUR_|<[a-z_]+>)", command), (
        "a ```bash block holds a placeholder; write a real command or use a ```text block")
    ws, env = sandbox
    expected = next((code for pattern, code in EXPECTED_EXIT if re.search(pattern, command)), 0)
    out = subprocess.run(["bash", "-c", "set -o pipefail\n" + as_fresh_run(command)], cwd=ws, env=env,
                         capture_output=True, text=True, timeout=600)
    log = f"$ {command}\n--- stdout ---\n{out.stdout[-4000:]}\n--- stderr ---\n{out.stderr[-4000:]}"
    assert out.returncode == expected, log
    assert "Traceback (most recent call last)" not in out.stderr, log
