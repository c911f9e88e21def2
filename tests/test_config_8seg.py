"""The 8-segment Kinetics-400 configs: every split builds from them, with 8 segments for train and valid and
25 x TenCrop for test and INFERENCE, and they differ from the 3-segment configs in nothing else."""
import os

import pytest

from conftest import ROOT, make_rawframes, write_video
from paddlevideo.tasks.data import build_split
from paddlevideo.utils.config import get_config, parse_config

TSN = os.path.join(ROOT, "configs", "recognition", "tsn")
SPLITS = ("train", "valid", "test")
# (views per clip, crop side): the configs' own sizes, nothing shrunk
EXPECTED = {"train": (8, 224), "valid": (8, 224), "test": (25 * 10, 224)}


@pytest.fixture(scope="module")
def tiny_k400(tmp_path_factory):
    """A two-class dataset in both layouts: rawframes lists and a video list, clips of 30 frames at 96x72."""
    root = str(tmp_path_factory.mktemp("k400"))
    make_rawframes(root, per_class=2, num_frames=30, val_per_class=1)
    os.makedirs(os.path.join(root, "videos"))
    lines = []
    for i in range(2):
        write_video(os.path.join(root, "videos", f"v{i}.avi"), num_frames=30, seed=i)
        lines.append(f"v{i}.avi {i}")
    with open(os.path.join(root, "videos.list"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return root


def overrides_for(layout, root):
    common = ["DATASET.batch_size=2", "DATASET.valid_batch_size=2", "DATASET.num_workers=0",
              "MODEL.backbone.pretrained=null"]
    if layout == "frames":
        paths = {"train": "train_frames.list", "valid": "val_frames.list", "test": "val_frames.list"}
        return common + [f"DATASET.{s}.{key}" for s in SPLITS for key in (
            f"data_prefix={os.path.join(root, 'rawframes')}", f"file_path={os.path.join(root, paths[s])}")]
    # decord may be absent: cv2 is the backend training defaults to, and gives the same frames
    return common + [f"DATASET.{s}.{key}" for s in SPLITS for key in (
        f"data_prefix={os.path.join(root, 'videos')}", f"file_path={os.path.join(root, 'videos.list')}")] + [
        f"PIPELINE.{s}.decode.backend=cv2" for s in SPLITS]


@pytest.mark.slow  # 250 views of 224x224 per test clip, at the configs' own sizes
@pytest.mark.parametrize("layout", ["frames", "videos"])
def test_every_split_builds_with_the_documented_clip_shapes(tiny_k400, layout):
    cfg = get_config(os.path.join(TSN, f"tsn_k400_{layout}_8seg.yaml"), overrides=overrides_for(layout, tiny_k400),
                     show=False)
    assert cfg.INFERENCE.num_seg == 25 and cfg.INFERENCE.target_size == 224
    for split in SPLITS:
        dataset, loader = build_split(cfg, split)
        views, side = EXPECTED[split]
        imgs, label = dataset[0]
        assert imgs.shape == (views, 3, side, side), split
        batch = next(iter(loader))
        batch_size = 1 if split == "test" else 2
        assert list(batch[0].shape) == [batch_size, views, 3, side, side], split
        assert list(batch[1].shape) == [batch_size, 1], split
    # the exported model's input: INFERENCE.num_seg segments x 10 crops, as the test split feeds the model
    assert cfg.INFERENCE.num_seg * 10 == EXPECTED["test"][0]


@pytest.mark.parametrize("layout", ["frames", "videos"])
def test_only_the_train_and_valid_segment_counts_and_the_output_folder_differ(layout):
    three, eight = (parse_config(os.path.join(TSN, f"tsn_k400_{layout}{tail}.yaml")) for tail in ("", "_8seg"))
    for split in ("train", "valid"):
        assert (three.PIPELINE[split].sample.num_seg, eight.PIPELINE[split].sample.num_seg) == (3, 8)
        eight.PIPELINE[split].sample.num_seg = 3
    assert eight.pop("output_dir") == "output/TSN_8seg" and "output_dir" not in three
    assert eight == three
