"""build_pipeline / build_dataset / build_dataloader from the YAML sections."""
import copy
import os
import random

import numpy as np
import paddle
import pytest

from paddlevideo.loader import build_dataloader, build_dataset, build_pipeline
from paddlevideo.loader.builder import worker_seed
from paddlevideo.utils.build_utils import BuildError
from paddlevideo.utils.config import get_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_demo.yaml")
K400 = os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_k400_videos.yaml")


@pytest.fixture
def video_list(tmp_path, make_video):
    lines = []
    for i in range(6):
        make_video(f"v{i}.avi", num_frames=10 + i, size=(96, 72), seed=i)
        lines.append(f"v{i}.avi {i % 3}")
    path = tmp_path / "train.list"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def video_pipeline(mode="train"):
    cfg = get_config(DEMO, show=False)
    pipe = copy.deepcopy(cfg.PIPELINE[mode])
    pipe.decode = {"name": "VideoDecoder", "backend": "cv2"}
    return pipe


def test_build_pipeline_from_config_ops_in_order():
    cfg = get_config(K400, show=False)
    names = [type(op).__name__ for op in build_pipeline(cfg.PIPELINE.train).ops]
    assert names == ["VideoDecoder", "Sampler", "Scale", "MultiScaleCrop", "RandomFlip", "Image2Array",
                     "Normalization"]
    assert [type(op).__name__ for op in build_pipeline(cfg.PIPELINE.test).ops][3] == "TenCrop"


def test_build_pipeline_errors_name_op_and_key():
    pipe = video_pipeline()
    pipe.transform[0] = {"Rescale": {"short_size": 72}}
    with pytest.raises(BuildError, match="transform' item 0.*'Rescale' is not a registered"):
        build_pipeline(pipe)
    pipe = video_pipeline()
    pipe.transform[1]["MultiScaleCrop"]["target_sise"] = 64
    with pytest.raises(BuildError, match="MultiScaleCrop' has no argument 'target_sise'"):
        build_pipeline(pipe)
    pipe = video_pipeline()
    pipe.sample["num_segs"] = 3
    with pytest.raises(BuildError, match="pipeline 'sample'.*Sampler' has no argument 'num_segs'"):
        build_pipeline(pipe)
    pipe = video_pipeline()
    pipe.transform.append("RandomFlip")
    with pytest.raises(BuildError, match="one-key mapping"):
        build_pipeline(pipe)


def test_build_dataset_both_forms(video_list, tmp_path):
    dcfg = {"format": "VideoDataset", "file_path": video_list, "data_prefix": str(tmp_path)}
    ds = build_dataset(dcfg, build_pipeline(video_pipeline()))
    assert len(ds) == 6
    ds2 = build_dataset((dict(dcfg, test_mode=True), video_pipeline("test")))
    assert ds2.test_mode is True
    imgs, label = ds2[0]
    assert imgs.shape == (250, 3, 64, 64) and label.tolist() == [0]  # 25 segments x TenCrop
    with pytest.raises(BuildError, match="'Videos' is not a registered dataset"):
        build_dataset(dict(dcfg, format="Videos"), video_pipeline())
    with pytest.raises(BuildError, match="VideoDataset' has no argument 'prefix'"):
        build_dataset({"format": "VideoDataset", "file_path": video_list, "prefix": "x"}, video_pipeline())


def batches(loader, epoch):
    loader.batch_sampler.set_epoch(epoch)
    return [(imgs.numpy(), labels.numpy()) for imgs, labels in loader]


def test_dataloader_batches_shapes_and_drop_last(video_list, tmp_path):
    ds = build_dataset({"format": "VideoDataset", "file_path": video_list, "data_prefix": str(tmp_path)},
                       video_pipeline("valid"))
    loader = build_dataloader(ds, batch_size=4, num_workers=0, shuffle=False, drop_last=False)
    out = batches(loader, 0)
    assert [b[0].shape for b in out] == [(4, 3, 3, 64, 64), (2, 3, 3, 64, 64)]
    assert out[0][1].shape == (4, 1) and out[0][1].dtype == np.int64
    assert out[0][1][:, 0].tolist() == [0, 1, 2, 0]
    train = build_dataloader(ds, batch_size=4, num_workers=0, shuffle=True, drop_last=True)
    assert len(train) == 1 and len(batches(train, 0)) == 1


class RandomDraws(paddle.io.Dataset):
    """Returns the worker's random draws, to check per-worker seeding."""

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        return np.array([random.random(), np.random.rand()], np.float32), np.array([idx], np.int64)


def test_worker_seeds_differ_and_reproduce():
    import cv2
    assert cv2.getNumThreads() == 1  # OpenCV's pool is not fork-safe: workers forked after it ran could hang
    cv2.resize(np.zeros((900, 900, 3), np.uint8), (800, 800))  # the parent uses cv2 right before forking

    def draws(seed, epoch):
        loader = build_dataloader(RandomDraws(), batch_size=2, num_workers=2, shuffle=False, drop_last=False,
                                  seed=seed)
        return np.concatenate([b[0] for b in batches(loader, epoch)])
    a, b, c = draws(7, 0), draws(7, 0), draws(7, 1)
    assert np.array_equal(a, b)                       # same seed and epoch: same crops
    assert not np.array_equal(a, c)                   # next epoch: new draws
    assert len(np.unique(a[:, 0])) == len(a)          # workers do not repeat each other's draws
    assert worker_seed(7, 0, 0) != worker_seed(7, 0, 1) != worker_seed(7, 1, 0)


_FAILING_LOADER = r"""
import sys
sys.path.insert(0, {root!r})
import paddlevideo
import numpy as np
from paddlevideo.loader import build_dataloader
from paddlevideo.loader.dataset.base import SampleLoadError

class Broken:
    def __len__(self):
        return 8
    def __getitem__(self, index):
        if index == 5:
            raise SampleLoadError("could not load a sample: clip_5.avi is corrupt")
        return np.zeros([3, 3, 8, 8], "float32"), np.array([0], "int64")

loader = build_dataloader(Broken(), batch_size=2, num_workers={workers}, shuffle=False, drop_last=False)
try:
    for batch in loader:
        pass
except SampleLoadError as err:
    print("CAUGHT", type(err).__name__, err)
"""


@pytest.mark.slow  # the loader's retries, and worker processes
@pytest.mark.parametrize("workers", [0, 2])
def test_sample_error_reaches_the_caller_instead_of_hanging(workers):
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _FAILING_LOADER.format(root=root, workers=workers)
    # Paddle's own loader hangs forever (0 workers) or raises SystemError from a dead queue (workers).
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "CAUGHT SampleLoadError could not load a sample: clip_5.avi is corrupt" in out.stdout
    assert "Traceback" not in out.stderr


def test_validation_swaps_a_broken_clip_like_training_but_test_retries_it(tmp_path, make_video, caplog):
    """PaddleVideo builds the validation set like the training set (another random clip on failure);
    only ``--test`` keeps retrying the listed clip."""
    import logging
    from paddlevideo.loader.dataset.base import SampleLoadError
    from paddlevideo.tasks.data import build_split

    make_video("good.avi", num_frames=12)
    (tmp_path / "broken.avi").write_bytes(b"junk" * 100)
    (tmp_path / "v.list").write_text("broken.avi 0\ngood.avi 1\n")
    cfg = get_config(DEMO, show=False)
    for split in ("valid", "test"):
        cfg.DATASET[split] = {"format": "VideoDataset", "file_path": str(tmp_path / "v.list"),
                              "data_prefix": str(tmp_path)}
        cfg.PIPELINE[split].decode = {"name": "VideoDecoder", "backend": "cv2"}
    valid, _ = build_split(cfg, "valid")
    test, _ = build_split(cfg, "test")
    assert valid.test_mode is False and test.test_mode is True
    caplog.set_level(logging.WARNING, logger="paddlevideo")
    logger = logging.getLogger("paddlevideo")
    logger.propagate = True
    try:
        random.seed(0)
        _, label = valid[0]
    finally:
        logger.propagate = False
    assert label.tolist() == [1], "validation must swap in the other (good) clip"
    assert any("broken.avi" in r.getMessage() and "another sample" in r.getMessage() for r in caplog.records)
    with pytest.raises(SampleLoadError) as info:
        test[0]
    assert "broken.avi" in str(info.value) and "good.avi" not in str(info.value)
