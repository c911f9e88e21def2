"""Transforms: output shapes, dtypes and values on small arrays; PaddleVideo's geometry and random draws."""
import random

import cv2
import numpy as np
import pytest

from paddlevideo.loader.pipelines import (CenterCrop, Compose, Image2Array, MultiScaleCrop, Normalization,
                                          PipelineError, RandomCrop, RandomFlip, Scale, TenCrop, ThreeCrop)
from paddlevideo.loader.pipelines.augmentations import NormalizedArray, scale_size

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def frames(t=3, h=48, w=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(t, h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("w,h,kw,expect", [
    (340, 256, dict(short_size=256, fixed_ratio=False, do_round=True), None),          # already short 256
    (640, 272, dict(short_size=256, fixed_ratio=False, do_round=True), (602, 256)),
    (640, 272, dict(short_size=256, fixed_ratio=False, do_round=False), (602, 256)),
    (641, 360, dict(short_size=256, fixed_ratio=False, do_round=True), (456, 256)),    # 455.82 rounds up
    (641, 360, dict(short_size=256, fixed_ratio=False, do_round=False), (455, 256)),   # truncates
    (640, 272, dict(short_size=256, fixed_ratio=True), (341, 256)),
    (272, 640, dict(short_size=256, fixed_ratio=True), (256, 341)),
    (360, 641, dict(short_size=256, fixed_ratio=False, do_round=True), (256, 456)),
    (300, 300, dict(short_size=256, fixed_ratio=False, do_round=True), (256, 256)),
    (640, 272, dict(short_size=256, fixed_ratio=False, keep_ratio=False), (256, 256)),
])
def test_scale_size(w, h, kw, expect):
    assert scale_size(w, h, **kw) == expect


def test_scale_op_cv2_and_pillow():
    x = frames(2, 30, 50)
    out = Scale(short_size=20, fixed_ratio=False, do_round=True, backend="cv2")({"imgs": x})["imgs"]
    assert out.shape == (2, 20, 33, 3) and out.dtype == np.uint8
    assert np.array_equal(out[1], cv2.resize(x[1], (33, 20), interpolation=cv2.INTER_LINEAR))
    from PIL import Image
    pil = Scale(short_size=20, fixed_ratio=False, do_round=True, backend="pillow")({"imgs": list(x)})["imgs"]
    assert np.array_equal(pil[0], np.asarray(Image.fromarray(x[0]).resize((33, 20), Image.BILINEAR)))
    same = Scale(short_size=30, fixed_ratio=False, backend="cv2")({"imgs": x})["imgs"]
    assert np.array_equal(same, x)
    with pytest.raises(PipelineError, match="backend"):
        Scale(short_size=20, backend="skimage")


def reference_msc(w, h, t, allow_dup, more_fix, rng):
    """MultiScaleCrop's box drawn with an independent copy of PaddleVideo's rules."""
    base = min(w, h)
    sizes = [int(base * s) for s in [1, .875, .75, .66]]
    sizes = [t if abs(s - t) < 3 else s for s in sizes]
    pairs = [(sizes[j], sizes[i]) for i in range(4) for j in range(4) if abs(i - j) <= 1]
    cw, ch = rng.choice(pairs)
    ws, hs = (w - cw) / 4, (h - ch) / 4
    cands = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
    if not allow_dup:
        cands = [(0, 0)] + ([(4 * ws, 0)] if ws else []) + ([(0, 4 * hs)] if hs else []) \
            + ([(4 * ws, 4 * hs)] if ws and hs else []) + ([(2 * ws, 2 * hs)] if ws or hs else [])
    if more_fix:
        cands += [(0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 4 * hs), (2 * ws, 0), (ws, hs), (3 * ws, hs),
                  (ws, 3 * hs), (3 * ws, 3 * hs)]
    ox, oy = rng.choice(cands)
    return cw, ch, ox, oy


@pytest.mark.parametrize("allow_dup,more_fix", [(True, False), (False, True)])
def test_multiscalecrop_matches_pil_crop_and_draws(allow_dup, more_fix):
    from PIL import Image
    x = frames(3, 45, 61)
    op = MultiScaleCrop(target_size=32, allow_duplication=allow_dup, more_fix_crop=more_fix, backend="cv2")
    for seed in range(12):
        random.seed(seed)
        out = op({"imgs": x})["imgs"]
        after = random.random()
        rng = random.Random(seed)
        cw, ch, ox, oy = reference_msc(61, 45, 32, allow_dup, more_fix, rng)
        assert rng.random() == after  # exactly two random.choice draws
        # PaddleVideo crops a PIL image with a float box (PIL rounds half to even), then cv2-resizes.
        ref = cv2.resize(np.asarray(Image.fromarray(x[2]).crop((ox, oy, ox + cw, oy + ch))), (32, 32),
                         interpolation=cv2.INTER_LINEAR)
        assert out.shape == (3, 32, 32, 3) and out.dtype == np.uint8
        assert np.array_equal(out[2], ref), seed


def test_multiscalecrop_no_fix_crop_uses_randint():
    x = frames(1, 40, 40)
    random.seed(1)
    out = MultiScaleCrop(target_size=16, fix_crop=False, backend="cv2")({"imgs": x})["imgs"]
    assert out.shape == (1, 16, 16, 3)


def test_random_crop_positions():
    x = frames(2, 20, 30)
    random.seed(5)
    out = RandomCrop(target_size=10)({"imgs": x})["imgs"]
    rng = random.Random(5)
    x1, y1 = rng.randint(0, 20), rng.randint(0, 10)
    assert np.array_equal(out, x[:, y1:y1 + 10, x1:x1 + 10])
    with pytest.raises(PipelineError, match="smaller than the crop"):
        RandomCrop(target_size=25)({"imgs": x})


def test_random_flip_draw_and_values():
    x = frames(2, 5, 7)
    for seed in range(6):
        random.seed(seed)
        out = RandomFlip()({"imgs": x})["imgs"]
        flipped = random.Random(seed).random() < 0.5
        assert np.array_equal(out, x[:, :, ::-1] if flipped else x)
    assert np.array_equal(RandomFlip(p=0)({"imgs": x})["imgs"], x)
    assert np.array_equal(RandomFlip(p=1.01)({"imgs": x})["imgs"], x[:, :, ::-1])


def test_center_crop_rounding():
    x = frames(2, 9, 7)
    floor = CenterCrop(target_size=4, do_round=False)({"imgs": x})["imgs"]
    assert np.array_equal(floor, x[:, 2:6, 1:5])  # (7-4)//2 = 1, (9-4)//2 = 2
    rounded = CenterCrop(target_size=4, do_round=True)({"imgs": x})["imgs"]
    assert np.array_equal(rounded, x[:, 2:6, 2:6])  # round(1.5) = 2, round(2.5) = 2 (half to even)
    with pytest.raises(PipelineError, match="7x9"):
        CenterCrop(target_size=8)({"imgs": x})


def test_ten_crop_order_and_flips():
    x = frames(3, 21, 30)
    out = TenCrop(target_size=10)({"imgs": x})["imgs"]
    assert out.shape == (30, 10, 10, 3) and out.dtype == np.uint8
    ws, hs = (30 - 10) // 4, (21 - 10) // 4
    boxes = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
    for k, (bx, by) in enumerate(boxes):
        crop = x[:, by:by + 10, bx:bx + 10]
        assert np.array_equal(out[6 * k:6 * k + 3], crop)
        assert np.array_equal(out[6 * k + 3:6 * k + 6], crop[:, :, ::-1])


def test_three_crop():
    x = frames(2, 10, 30)
    out = ThreeCrop(target_size=10)({"imgs": x})["imgs"]
    assert out.shape == (6, 10, 10, 3)
    assert np.array_equal(out[0:2], x[:, :, 0:10]) and np.array_equal(out[2:4], x[:, :, 20:30])
    assert np.array_equal(out[4:6], x[:, :, 10:20])
    tall = ThreeCrop(target_size=10)({"imgs": frames(1, 30, 12)})["imgs"]
    assert tall.shape == (3, 10, 10, 3)


def test_image2array_and_normalization_values():
    x = frames(2, 4, 5)
    arr = Image2Array()({"imgs": x})["imgs"]
    assert arr.shape == (2, 3, 4, 5) and arr.dtype == np.float32
    assert np.array_equal(arr, x.transpose(0, 3, 1, 2).astype(np.float32))
    assert Image2Array(data_format="cthw")({"imgs": x})["imgs"].shape == (3, 2, 4, 5)
    norm = Normalization(MEAN, STD)({"imgs": arr})["imgs"]
    assert norm.dtype == np.float32 and norm.shape == arr.shape
    mean = np.array(MEAN, np.float32).reshape(3, 1, 1)
    std = np.array(STD, np.float32).reshape(3, 1, 1)
    assert np.array_equal(norm, (arr / np.float32(255) - mean) / std)
    assert abs(float(norm[0, 0, 0, 0]) - (x[0, 0, 0, 0] / 255 - MEAN[0]) / STD[0]) < 1e-5
    with pytest.raises(PipelineError, match="mean"):
        Normalization(mean=0.5, std=STD)


def test_fused_array_normalization_is_bit_identical():
    x = frames(7, 13, 11, seed=3)
    x[0, 0, :, 0] = np.arange(11) * 25  # include 0 and 250
    sep = Normalization(MEAN, STD)(Image2Array()({"imgs": x}))["imgs"]
    pipe = Compose([Image2Array(), Normalization(MEAN, STD)])
    assert any(isinstance(op, NormalizedArray) for op in pipe._run)
    fused = pipe({"imgs": x})["imgs"]
    assert fused.dtype == np.float32 and np.array_equal(fused, sep)
    # non-uint8 input falls back to the two ops
    as_float = pipe({"imgs": x.astype(np.float32)})["imgs"]
    assert np.array_equal(as_float, sep)


def test_pipelines_output_shapes():
    x = frames(3, 60, 80)
    train = Compose([Scale(short_size=40, fixed_ratio=False, do_round=True, backend="cv2"),
                     MultiScaleCrop(target_size=32, allow_duplication=True, more_fix_crop=False, backend="cv2"),
                     RandomFlip(), Image2Array(), Normalization(MEAN, STD)])
    out = train({"imgs": x})["imgs"]
    assert out.shape == (3, 3, 32, 32) and out.dtype == np.float32
    test = Compose([Scale(short_size=40, fixed_ratio=False, do_round=True, backend="cv2"), TenCrop(32),
                    Image2Array(), Normalization(MEAN, STD)])
    out = test({"imgs": frames(5, 60, 80)})["imgs"]
    assert out.shape == (50, 3, 32, 32) and out.dtype == np.float32
    valid = Compose([Scale(short_size=40, fixed_ratio=False, do_round=True, backend="cv2"),
                     CenterCrop(32, do_round=False), Image2Array(), Normalization(MEAN, STD)])
    assert valid({"imgs": list(x)})["imgs"].shape == (3, 3, 32, 32)


@pytest.mark.parametrize("build, message", [
    (lambda: Scale(short_size=-5), r"Scale: short_size must be a positive integer \(pixels\), got -5"),
    (lambda: CenterCrop(target_size=0), "CenterCrop: target_size must be a positive integer"),
    (lambda: TenCrop(target_size=2.5), "TenCrop: target_size must be a positive integer"),
    (lambda: MultiScaleCrop(target_size="224"), "MultiScaleCrop: target_size must be a positive integer"),
])
def test_bad_sizes_are_refused_when_the_op_is_built(build, message):
    with pytest.raises(PipelineError, match=message):
        build()
