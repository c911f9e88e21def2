"""Every pipeline op documents its results-dict contract and shows its constructor in ``repr``.

Each op's docstring has "Required keys:", "Added keys:" and "Modified keys:" lines, keys written as
````name``: ...`` or ````name`` -> ...``; these tests run every op and compare what it really reads,
adds and changes with what its docstring says.
"""
import copy
import pickle
import re

import cv2
import numpy as np
import pytest

import paddlevideo.loader.pipelines as pipelines
from paddlevideo.loader.pipelines import (CenterCrop, FrameDecoder, Image2Array, MultiScaleCrop, Normalization,
                                          RandomCrop, RandomFlip, Sampler, Scale, TenCrop, ThreeCrop, VideoDecoder)
from paddlevideo.loader.pipelines.base import PipelineOp
from paddlevideo.loader.registry import PIPELINES
from paddlevideo.utils.errors import UserError

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SECTIONS = ("Required keys:", "Added keys:", "Modified keys:")


def contract(op_cls):
    """``{section: set of key names}`` parsed from the class docstring."""
    doc = " ".join((op_cls.__doc__ or "").split())
    found = {}
    for i, section in enumerate(SECTIONS):
        assert section in doc, f"{op_cls.__name__} docstring has no '{section}'"
        text = doc.split(section, 1)[1]
        for later in SECTIONS[i + 1:]:
            text = text.split(later, 1)[0]
        found[section] = set(re.findall(r"``(\w+)``(?=:| ->)", text))
    return found


def frames(t=2, h=24, w=32):
    return np.random.default_rng(0).integers(0, 256, size=(t, h, w, 3), dtype=np.uint8)


@pytest.fixture
def frame_dir(tmp_path):
    folder = tmp_path / "clip.mp4"
    folder.mkdir()
    for i in range(1, 6):
        cv2.imwrite(str(folder / f"img_{i:05d}.jpg"), np.full((12, 16, 3), 40 * i, np.uint8))
    return str(folder)


@pytest.fixture
def cases(make_video, frame_dir):
    """``op -> (op, its input results)`` for every registered op."""
    video = make_video("c.avi", num_frames=20, size=(32, 24))
    sampler = Sampler(3, 1, valid_mode=True, select_left=True)
    return [
        (VideoDecoder("cv2"), {"filename": video}),
        (FrameDecoder(), {"frame_dir": frame_dir, "frames_len": "5"}),
        (sampler, {"filename": video, "format": "video", "backend": "cv2"}),
        (Scale(16, fixed_ratio=False, do_round=True, backend="cv2"), {"imgs": frames()}),
        (MultiScaleCrop(16, backend="cv2"), {"imgs": frames()}),
        (RandomCrop(16), {"imgs": frames()}),
        (RandomFlip(p=1.0), {"imgs": frames()}),
        (CenterCrop(16), {"imgs": frames()}),
        (TenCrop(16), {"imgs": frames()}),
        (ThreeCrop(16), {"imgs": frames()}),
        (Image2Array(), {"imgs": frames()}),
        (Normalization(MEAN, STD), {"imgs": frames().transpose(0, 3, 1, 2).astype(np.float32)}),
    ]


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b and type(a) is type(b)


def test_every_registered_op_is_covered(cases):
    assert {type(op).__name__ for op, _ in cases} == set(PIPELINES.names())


def test_ops_do_what_their_docstrings_say(cases):
    for op, results in cases:
        declared = contract(type(op))
        before = copy.deepcopy(results)
        out = op(results)
        added = set(out) - set(before)
        modified = {k for k in before if k in out and not same(before[k], out[k])}
        name = type(op).__name__
        assert added == declared["Added keys:"], name
        assert modified == declared["Modified keys:"], name
        assert declared["Required keys:"], name
        for key in declared["Required keys:"]:
            missing = {k: v for k, v in copy.deepcopy(before).items() if k != key}
            with pytest.raises(UserError, match=key):
                op(missing)


def test_frame_folder_sampler_adds_only_imgs_and_indices(frame_dir):
    results = FrameDecoder()({"frame_dir": frame_dir, "frames_len": 5})
    out = Sampler(3, 1, valid_mode=True, select_left=True)(dict(results))
    assert set(out) - set(results) == {"imgs", "frame_idx"}
    assert out["imgs"].shape == (3, 12, 16, 3) and out["imgs"].dtype == np.uint8


def test_repr_shows_constructor_with_defaults():
    assert repr(Scale(256, fixed_ratio=False, do_round=True, backend="cv2")) == \
        "Scale(short_size=256, fixed_ratio=False, keep_ratio=None, do_round=True, backend='cv2')"
    assert repr(TenCrop(target_size=224)) == "TenCrop(target_size=224)"
    assert repr(FrameDecoder()) == "FrameDecoder()"
    assert repr(Sampler(25, 1, valid_mode=True, select_left=True)) == (
        "Sampler(num_seg=25, seg_len=1, frame_interval=None, valid_mode=True, select_left=True, "
        "dense_sample=False, linspace_sample=False, use_pil=True)")


def test_repr_rebuilds_an_equal_op_and_survives_pickling(cases):
    namespace = vars(pipelines)
    for op, _ in cases:
        assert isinstance(op, PipelineOp)
        text = repr(op)
        assert text.startswith(type(op).__name__ + "(")
        assert repr(eval(text, namespace)) == text
        assert repr(pickle.loads(pickle.dumps(op))) == text  # DataLoader workers get pickled ops
