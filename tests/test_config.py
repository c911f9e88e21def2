import logging
import os

import pytest
import yaml

from paddlevideo.utils.config import (AttrDict, ConfigError, check_config, format_config, get_config,
                                      override_config, parse_config, parse_literal, save_config)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = os.path.join(ROOT, "configs/recognition/tsn/tsn_k400_frames.yaml")
VIDEOS = os.path.join(ROOT, "configs/recognition/tsn/tsn_k400_videos.yaml")


@pytest.mark.parametrize("path", [FRAMES, VIDEOS])
def test_tsn_configs_hold_spec_values(path):
    cfg = parse_config(path)
    assert cfg.MODEL.framework == "Recognizer2D"
    assert cfg.MODEL.backbone == {"name": "ResNet", "pretrained": "data/ResNet50_pretrain.pdparams", "depth": 50}
    assert cfg.MODEL.head == {"name": "TSNHead", "num_classes": 400, "in_channels": 2048,
                              "drop_ratio": 0.4, "std": 0.01}
    assert (cfg.DATASET.batch_size, cfg.DATASET.valid_batch_size, cfg.DATASET.test_batch_size,
            cfg.DATASET.num_workers) == (32, 32, 1, 4)
    for mode, num_seg, valid_mode in [("train", 3, False), ("valid", 3, True), ("test", 25, True)]:
        sample = cfg.PIPELINE[mode].sample
        assert sample == {"name": "Sampler", "num_seg": num_seg, "seg_len": 1,
                          "valid_mode": valid_mode, "select_left": True}
        assert cfg.PIPELINE[mode].transform[0].Scale == {"short_size": 256, "fixed_ratio": False,
                                                         "do_round": True, "backend": "cv2"}
    assert cfg.PIPELINE.train.transform[1].MultiScaleCrop == {
        "target_size": 224, "allow_duplication": True, "more_fix_crop": False, "backend": "cv2"}
    assert [next(iter(t)) for t in cfg.PIPELINE.train.transform] == [
        "Scale", "MultiScaleCrop", "RandomFlip", "Image2Array", "Normalization"]
    assert cfg.PIPELINE.train.transform[2].RandomFlip is None
    assert cfg.PIPELINE.valid.transform[1].CenterCrop == {"target_size": 224, "do_round": False}
    assert cfg.PIPELINE.test.transform[1].TenCrop == {"target_size": 224}
    assert cfg.PIPELINE.test.transform[3].Normalization.std == [0.229, 0.224, 0.225]
    opt = cfg.OPTIMIZER
    assert opt.name == "Momentum" and opt.momentum == 0.9
    assert opt.learning_rate == {"name": "PiecewiseDecay", "boundaries": [40, 80], "values": [0.01, 0.001, 0.0001]}
    # YAML reads "1e-4" as a string; the loader turns Python-literal strings into numbers as PaddleVideo does.
    assert opt.weight_decay == {"name": "L2", "value": 1e-4} and isinstance(opt.weight_decay.value, float)
    assert opt.grad_clip == {"name": "ClipGradByGlobalNorm", "value": 40.0}
    assert cfg.METRIC.name == "CenterCropMetric"
    assert cfg.INFERENCE == {"name": "ppTSN_Inference_helper", "num_seg": 25, "target_size": 224}
    assert (cfg.model_name, cfg.log_interval, cfg.save_interval, cfg.epochs, cfg.log_level) == (
        "TSN", 20, 10, 100, "INFO")


def test_dataset_sections_differ_between_frames_and_videos():
    frames, videos = parse_config(FRAMES), parse_config(VIDEOS)
    assert frames.DATASET.train == {"format": "FrameDataset", "data_prefix": "data/k400/rawframes",
                                    "file_path": "data/k400/train_frames.list", "suffix": "img_{:05}.jpg"}
    assert videos.DATASET.train == {"format": "VideoDataset", "file_path": "data/k400/train.list"}
    assert videos.DATASET.test.file_path == "data/k400/val.list"
    assert frames.PIPELINE.train.decode == {"name": "FrameDecoder"}
    assert videos.PIPELINE.train.decode == {"name": "VideoDecoder", "backend": "decord"}


def test_attribute_access_inside_lists_and_missing_key_message():
    cfg = parse_config(FRAMES)
    assert isinstance(cfg.PIPELINE.train.transform[1], AttrDict)
    assert cfg.PIPELINE.train.transform[1].MultiScaleCrop.target_size == 224
    with pytest.raises(AttributeError, match="no key 'depthh'.*depth"):
        cfg.MODEL.backbone.depthh


@pytest.mark.parametrize("text, expected", [
    ("3", 3), ("-2", -2), ("0.5", 0.5), ("1e-3", 0.001), ("True", True), ("false", False),
    ("None", None), ("null", None), ("[1, 2]", [1, 2]), ("'abc'", "abc"), ('"x y"', "x y"),
    ("abc", "abc"), ("data/k400/a.list", "data/k400/a.list"), ("img_{:05}.jpg", "img_{:05}.jpg"),
    ("", ""), ("{'a': 1}", {"a": 1}),
])
def test_parse_literal(text, expected):
    assert parse_literal(text) == expected
    assert type(parse_literal(text)) is type(expected)


def test_overrides_of_every_kind(caplog):
    cfg = parse_config(FRAMES)
    override_config(cfg, [
        "epochs=1",
        "MODEL.backbone.depth=18",
        "MODEL.backbone.pretrained=''",
        "OPTIMIZER.learning_rate.values=[0.1, 0.01, 0.001]",
        "PIPELINE.test.transform.0.Scale.short_size=128",
        "PIPELINE.train.transform.1.MultiScaleCrop.target_size=112",
        "DATASET.train.file_path=my/list.txt",
        "OPTIMIZER.weight_decay.value=5e-4",
        "PIPELINE.train.sample.valid_mode=True",
    ])
    assert cfg.epochs == 1 and cfg.MODEL.backbone.depth == 18 and cfg.MODEL.backbone.pretrained == ""
    assert cfg.OPTIMIZER.learning_rate["values"] == [0.1, 0.01, 0.001]  # .values is dict.values
    assert cfg.PIPELINE.test.transform[0].Scale.short_size == 128
    assert cfg.PIPELINE.train.transform[1].MultiScaleCrop.target_size == 112
    assert cfg.DATASET.train.file_path == "my/list.txt"
    assert cfg.OPTIMIZER.weight_decay.value == 5e-4
    assert cfg.PIPELINE.train.sample.valid_mode is True


def test_new_leaf_key_is_added_and_then_checked():
    cfg = parse_config(FRAMES)
    override_config(cfg, ["resume_epoch=5", "MODEL.head.ls_eps=0.1", "epoch=1"])
    assert cfg.resume_epoch == 5 and cfg.MODEL.head.ls_eps == 0.1 and cfg.epoch == 1
    # Declared keys pass the check; an undeclared one fails it, naming the closest declared key.
    del cfg["epoch"]
    assert check_config(cfg, "train").resume_epoch == 5
    cfg.epoch = 1
    with pytest.raises(ConfigError, match=r"^unknown key 'epoch'; did you mean 'epochs'\?$"):
        check_config(cfg, "train")


def test_get_config_checks_when_given_a_mode():
    assert get_config(FRAMES, overrides=["epoch=1"], show=False).epoch == 1  # no mode: no check
    with pytest.raises(ConfigError, match="unknown key 'epoch'"):
        get_config(FRAMES, overrides=["epoch=1"], show=False, mode="export")
    cfg = get_config(FRAMES, show=False, mode="predict")
    assert cfg.INFERENCE.short_size == 256 and cfg.log_interval == 20


def test_override_dict_value_gets_attribute_access():
    cfg = parse_config(FRAMES)
    override_config(cfg, ["MODEL.head={'name': 'TSNHead', 'num_classes': 4}"])
    assert cfg.MODEL.head.num_classes == 4


@pytest.mark.parametrize("override, message", [
    ("MODEL.backbon.depth=18", r"'MODEL.backbon.depth'.*'backbon' does not exist; did you mean 'backbone'\?"),
    ("MODEL.zzz.depth=18", r"'zzz' does not exist; keys there: framework, backbone, head"),
    ("PIPELINE.test.transform.9.Scale.short_size=1", r"index 9 out of range for a list of 4"),
    ("PIPELINE.test.transform.first.Scale=1", r"'first' must be a list index"),
    ("epochs.x=1", r"cannot descend into 'x'.*int"),
    ("no_equals_sign", r"must look like key.path=value"),
    ("MODEL..depth=1", r"empty key"),
])
def test_bad_override_paths_fail_clearly(override, message):
    cfg = parse_config(FRAMES)
    with pytest.raises(ConfigError, match=message):
        override_config(cfg, [override])


def test_override_never_evaluates_code(tmp_path):
    marker = tmp_path / "pwned"
    cfg = parse_config(FRAMES)
    override_config(cfg, [f"epochs=__import__('pathlib').Path('{marker}').touch()"])
    assert not marker.exists()
    assert isinstance(cfg.epochs, str)


def test_missing_empty_and_invalid_config_files(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*tsn_k400_frame.yaml.*tsn_k400_frames.yaml"):
        parse_config(os.path.join(os.path.dirname(FRAMES), "tsn_k400_frame.yaml"))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        parse_config(str(empty))
    bad = tmp_path / "bad.yaml"
    bad.write_text("MODEL:\n  a: [1, 2\n  b: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml line \d+, column \d+ is not valid YAML"):
        parse_config(str(bad))
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        parse_config(str(listy))


def test_printed_and_saved_config(tmp_path, capsys):
    cfg = get_config(FRAMES, overrides=["epochs=2"], show=True)
    out = capsys.readouterr().out
    assert "MODEL :" in out and "    backbone :" in out and "        depth : 50" in out
    assert "        MultiScaleCrop :" in out and "epochs : 2" in out
    text = format_config(cfg)
    assert text.index("MODEL :") < text.index("DATASET :")
    path = save_config(cfg, str(tmp_path / "out"))
    assert os.path.basename(path) == "config.yaml"
    with open(path) as f:
        saved = yaml.safe_load(f)
    assert saved["epochs"] == 2 and saved["PIPELINE"]["train"]["transform"][1]["MultiScaleCrop"]["target_size"] == 224
