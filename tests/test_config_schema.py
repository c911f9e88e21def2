"""check_config: every key declared once (type, range, default), unknown keys named, keys a mode needs."""
import copy
import glob
import os
import re

import pytest

from paddlevideo.utils.config import AttrDict, ConfigError, check_config, override_config, parse_config
from paddlevideo.utils.config_check import closest, schema_rows, schema_table
from paddlevideo.utils.config_schema import MODES, SCHEMA

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The model configs (the *_quantization.yaml ones configure deploy/slim/quant_post_static.py, tested there).
OURS = sorted(p for p in glob.glob(os.path.join(ROOT, "configs", "recognition", "tsn", "*.yaml"))
              if not p.endswith("_quantization.yaml"))
DEMO = os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_demo.yaml")
# PaddleVideo's own TSN configs, unchanged, beside the project (see ../shared/paddlevideo/README.md).
PADDLEVIDEO_CONFIGS = os.path.join(os.path.dirname(ROOT), "shared", "paddlevideo", "configs", "recognition", "tsn")
PADDLEVIDEO_TSN = {"tsn_k400_frames.yaml": MODES, "tsn_k400_videos.yaml": MODES,
                   # tsn_dali.yaml is for --train_dali (refused by main.py): it has test sections only.
                   "tsn_dali.yaml": ("test",)}


def demo(*overrides):
    return override_config(parse_config(DEMO), list(overrides))


def _contains(big, small, path=""):
    """Every key and value of ``small`` is in ``big`` unchanged (``big`` may have more keys)."""
    if isinstance(small, dict):
        assert isinstance(big, dict), path
        for key, value in small.items():
            assert key in big, f"{path}.{key} dropped"
            _contains(big[key], value, f"{path}.{key}")
    else:
        assert big == small and type(big) is type(small), f"{path}: {small!r} became {big!r}"


@pytest.mark.parametrize("path", OURS, ids=os.path.basename)
@pytest.mark.parametrize("mode", MODES)
def test_our_configs_pass_every_mode_unchanged(path, mode):
    original = parse_config(path)
    checked = check_config(copy.deepcopy(original), mode)
    _contains(checked, original)


@pytest.fixture(scope="module")
def paddlevideo_configs():
    """The folder of PaddleVideo's TSN configs; skips, naming it, when ../shared is absent."""
    if not os.path.isdir(PADDLEVIDEO_CONFIGS):
        pytest.skip("../shared/paddlevideo/configs/recognition/tsn not found beside the project: PaddleVideo's "
                    "own TSN configs live there (absent in a clone without ../shared)")
    return PADDLEVIDEO_CONFIGS


@pytest.mark.parametrize("name", sorted(PADDLEVIDEO_TSN))
def test_paddlevideo_tsn_configs_load_unchanged(paddlevideo_configs, name):
    for mode in PADDLEVIDEO_TSN[name]:
        original = parse_config(os.path.join(paddlevideo_configs, name))
        _contains(check_config(copy.deepcopy(original), mode), original)
    if name == "tsn_dali.yaml":  # DALI_LOADER is accepted, but the file has no training sections
        with pytest.raises(ConfigError, match="missing key 'DATASET.train': training needs it"):
            check_config(parse_config(os.path.join(paddlevideo_configs, name)), "train")


def test_defaults_are_filled_in_and_given_values_kept():
    cfg = demo()
    for key in ("val_interval", "resume_epoch"):
        assert key not in cfg
    del cfg["log_level"], cfg.DATASET["valid_batch_size"], cfg.DATASET["num_workers"]
    del cfg.INFERENCE["short_size"]
    check_config(cfg, "train")
    assert (cfg.log_interval, cfg.save_interval, cfg.val_interval, cfg.log_level, cfg.resume_epoch) == (
        3, 5, 1, "INFO", 0)
    assert cfg.DATASET.valid_batch_size == cfg.DATASET.batch_size == 8 and cfg.DATASET.test_batch_size == 1
    assert (cfg.DATASET.num_workers, cfg.DATASET.valid_num_workers, cfg.DATASET.test_num_workers) == (0, 0, 0)
    assert cfg.METRIC.log_interval == 1 and cfg.OPTIMIZER.learning_rate.iter_step is False
    assert (cfg.INFERENCE.short_size, cfg.INFERENCE.seg_len, cfg.INFERENCE.top_k) == (256, 1, 1)
    assert cfg.INFERENCE.mean == [0.485, 0.456, 0.406] and cfg.INFERENCE.std == [0.229, 0.224, 0.225]
    cfg.INFERENCE.mean[0] = 0.0  # each config gets its own copy of a list default
    assert check_config(demo(), "predict").INFERENCE.mean[0] == 0.485
    # Constructor arguments keep the constructor's own default: nothing is added to a named section.
    assert "drop_ratio" not in demo("MODEL.head={'name': 'TSNHead', 'num_classes': 4, 'in_channels': 512}") \
        .MODEL.head
    cfg = check_config(demo("MODEL.head={'name': 'TSNHead', 'num_classes': 4, 'in_channels': 512}"), "train")
    assert set(cfg.MODEL.head) == {"name", "num_classes", "in_channels"}
    assert "data_format" not in cfg.MODEL.backbone and "output_dir" not in cfg


def test_derived_defaults_follow_the_given_values():
    cfg = demo("DATASET.batch_size=3", "DATASET.num_workers=1")
    del cfg.DATASET["valid_batch_size"]
    check_config(cfg, "test")
    assert (cfg.DATASET.valid_batch_size, cfg.DATASET.valid_num_workers, cfg.DATASET.test_num_workers) == (3, 1, 1)


@pytest.mark.parametrize("override, message", [
    ("epoch=1", "unknown key 'epoch'; did you mean 'epochs'?"),
    ("logging_interval=1", "unknown key 'logging_interval'; did you mean 'log_interval'?"),
    ("model={}", "unknown key 'model'; did you mean 'MODEL'?"),
    ("DATASET.batchsize=2", "unknown key 'DATASET.batchsize'; did you mean 'DATASET.batch_size'?"),
    ("INFERENCE.numseg=2", "unknown key 'INFERENCE.numseg'; did you mean 'INFERENCE.num_seg'?"),
    ("PIPELINE.train.transfrom=[]", "unknown key 'PIPELINE.train.transfrom'; did you mean "
                                    "'PIPELINE.train.transform'?"),
    ("OPTIMIZER.weight_decay.valeu=1", "did you mean 'OPTIMIZER.weight_decay.value'?"),
    ("qqq=1", "unknown key 'qqq'; known keys: MODEL, DATASET, PIPELINE"),
])
def test_unknown_keys_name_the_closest_declared_key(override, message):
    with pytest.raises(ConfigError) as err:
        check_config(demo(override), "train")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_keys_in_named_sections_are_left_to_the_constructor():
    cfg = check_config(demo("MODEL.head.std=0.02", "OPTIMIZER.use_nesterov=True", "METRIC.topk=[1, 3]",
                            "PIPELINE.train.decode.backend=cv2", "DATASET.train.num_retries=2"), "train")
    assert cfg.MODEL.head.std == 0.02 and cfg.DATASET.train.num_retries == 2


@pytest.mark.parametrize("override, message", [
    ("epochs=ten", "epochs: got 'ten', expected an integer >= 1"),
    ("epochs=2.5", "epochs: got 2.5, expected an integer >= 1"),
    ("epochs=True", "epochs: got True, expected an integer >= 1"),
    ("epochs=0", "epochs: got 0, expected an integer >= 1"),
    ("DATASET.batch_size=0", "DATASET.batch_size: got 0, expected an integer >= 1"),
    ("DATASET.test_batch_size=-2", "DATASET.test_batch_size: got -2"),
    ("DATASET.num_workers=-1", "DATASET.num_workers: got -1, expected an integer >= 0"),
    ("log_interval=0", "log_interval: got 0, expected an integer >= 1"),
    ("save_interval=0", "save_interval: got 0, expected an integer >= 1"),
    ("val_interval=0", "val_interval: got 0, expected an integer >= 1"),
    ("resume_epoch=-1", "resume_epoch: got -1, expected an integer >= 0"),
    ("log_level=LOUD", "log_level: got 'LOUD', expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("model_name=3", "model_name: got 3, expected a string"),
    ("MODEL.head.drop_ratio=1.5", "MODEL.head.drop_ratio: got 1.5, expected a number in [0, 1)"),
    ("MODEL.head.drop_ratio=1", "MODEL.head.drop_ratio: got 1, expected a number in [0, 1)"),
    ("MODEL.head.num_classes=0", "MODEL.head.num_classes: got 0, expected an integer >= 1"),
    ("MODEL.head.in_channels=big", "MODEL.head.in_channels: got 'big'"),
    ("MODEL.backbone.depth=19", "MODEL.backbone.depth: got 19, expected one of 18, 34, 50, 101, 152"),
    ("MODEL.backbone.data_format=NCWH", "expected one of NCHW, NHWC"),
    ("INFERENCE.num_seg=0", "INFERENCE.num_seg: got 0, expected an integer >= 1"),
    ("INFERENCE.target_size=-1", "INFERENCE.target_size: got -1, expected an integer >= 1"),
    ("INFERENCE.backend=opencv", "INFERENCE.backend: got 'opencv', expected one of decord, cv2, pyav"),
    ("INFERENCE.mean=[0.5, 0.5]", "INFERENCE.mean: got [0.5, 0.5], expected a list of 3 numbers"),
    ("OPTIMIZER.learning_rate=-0.1", "OPTIMIZER.learning_rate: got -0.1, expected a number > 0 or a mapping"),
    ("OPTIMIZER.learning_rate.iter_step=yes please", "iter_step: got 'yes please', expected true or false"),
    ("OPTIMIZER.weight_decay.value=-1", "OPTIMIZER.weight_decay.value: got -1, expected a number >= 0"),
    ("OPTIMIZER.grad_clip.name=Clip", "OPTIMIZER.grad_clip.name: got 'Clip', expected one of"),
    ("OPTIMIZER.grad_clip.value=0", "OPTIMIZER.grad_clip.value: got 0, expected a number > 0"),
    ("METRIC.log_interval=0", "METRIC.log_interval: got 0"),
    ("PIPELINE.train.transform=Scale", "PIPELINE.train.transform: got 'Scale', expected a list of ops"),
    ("PIPELINE.train.transform.0={'Scale': 1, 'X': 2}", "PIPELINE.train.transform.0: got"),
    ("PIPELINE.train.transform.0.Scale=256", "PIPELINE.train.transform.0.Scale: got 256, expected a mapping"),
    ("PIPELINE.train.decode=FrameDecoder", "PIPELINE.train.decode: got 'FrameDecoder', expected a mapping"),
    ("DATASET.train.file_path=None", "DATASET.train.file_path: got None, expected a string"),
    ("GRADIENT_ACCUMULATION={'global_batch_size': 64}", "GRADIENT_ACCUMULATION: PaddleVideo's gradient"),
])
def test_types_and_ranges(override, message):
    with pytest.raises(ConfigError) as err:
        check_config(demo(override), "train_validate")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_accepted_values_at_the_edges():
    cfg = check_config(demo("MODEL.head.drop_ratio=0", "log_level=debug", "OPTIMIZER.learning_rate=0.1",
                            "OPTIMIZER.weight_decay=1e-4", "OPTIMIZER.grad_clip=None", "use_npu=False",
                            "MODEL.backbone.pretrained=None", "INFERENCE.backend=None", "resume_epoch=0"),
                       "train")
    assert cfg.log_level == "debug" and cfg.OPTIMIZER.learning_rate == 0.1


def test_output_dir_must_not_be_a_file(tmp_path):
    path = tmp_path / "taken"
    path.write_text("x")
    with pytest.raises(ConfigError, match=r"^output_dir: got '.*taken', an existing file; expected a folder"):
        check_config(demo(f"output_dir={path}"), "train")
    with pytest.raises(ConfigError, match="an existing file"):
        check_config(demo(f"output_dir={path}"), "test")  # --test appends to metrics.jsonl there
    assert check_config(demo(f"output_dir={path}"), "export")  # export writes elsewhere (its -o)
    assert check_config(demo(f"output_dir={tmp_path}"), "train").output_dir == str(tmp_path)


def _without(cfg, dotted):
    *parents, last = dotted.split(".")
    node = cfg
    for key in parents:
        node = node[key]
    del node[last]
    return cfg


@pytest.mark.parametrize("mode, removed, message", [
    ("train_validate", "PIPELINE.valid", "missing key 'PIPELINE.valid': training with --validate needs it"),
    ("train_validate", "DATASET.valid", "missing key 'DATASET.valid': training with --validate needs it"),
    ("train", "MODEL.head", "missing key 'MODEL.head': training needs it"),
    ("test", "MODEL.head", "missing key 'MODEL.head': --test needs it"),
    ("export", "MODEL.head.num_classes", "missing key 'MODEL.head.num_classes': export needs it"),
    ("train", "OPTIMIZER.learning_rate", "missing key 'OPTIMIZER.learning_rate': training needs it"),
    ("train", "epochs", "missing key 'epochs': training needs it"),
    ("train", "DATASET.train.file_path", "missing key 'DATASET.train.file_path'"),
    ("test", "METRIC", "missing key 'METRIC': --test needs it"),
    ("test", "PIPELINE.test", "missing key 'PIPELINE.test': --test needs it"),
    ("export", "INFERENCE.num_seg", "missing key 'INFERENCE.num_seg': export needs it"),
    ("predict", "INFERENCE", "missing key 'INFERENCE': predict needs it"),
    ("predict", "model_name", "missing key 'model_name': predict needs it"),
])
def test_keys_each_mode_needs(mode, removed, message):
    with pytest.raises(ConfigError) as err:
        check_config(_without(demo(), removed), mode)
    assert message in str(err.value)


@pytest.mark.parametrize("mode, removed", [
    ("train", "PIPELINE.valid"), ("train", "METRIC"), ("test", "OPTIMIZER"), ("test", "epochs"),
    ("test", "DATASET.train"), ("predict", "MODEL"), ("predict", "DATASET"), ("export", "PIPELINE"),
    ("train", "INFERENCE"), ("predict", "INFERENCE.num_seg"),
])
def test_keys_a_mode_does_not_need_may_be_absent(mode, removed):
    assert check_config(_without(demo(), removed), mode)


def test_bad_mode_is_a_programming_error():
    with pytest.raises(ValueError, match="mode must be one of"):
        check_config(demo(), "training")
    with pytest.raises(ConfigError, match="must be a mapping"):
        check_config(["MODEL"], "train")


def test_closest():
    assert closest("epoch", ["epochs", "model_name"]) == "epochs"
    assert closest("Model", ["MODEL", "METRIC"]) == "MODEL"
    assert closest("zzzz", ["MODEL", "METRIC"]) is None


def test_docs_hold_the_generated_key_table():
    with open(os.path.join(ROOT, "docs", "config.md"), encoding="utf-8") as f:
        text = f.read()
    assert schema_table() in text, "docs/config.md's key table is stale: paste schema_table()"
    rows = {row[0]: row for row in schema_rows()}
    assert rows["log_interval"][1:4] == ("int", ">= 1", "10")
    assert rows["MODEL.head.drop_ratio"][2] == "in [0, 1)"
    assert rows["DATASET.valid"][3] == "required for --validate"


_SOURCES = ["main.py", "paddlevideo/tasks/*.py", "paddlevideo/inference/export.py", "paddlevideo/inference/api.py", "paddlevideo/inference/model.py",
            "tools/*.py"]
_DICT_METHODS = {"get", "items", "keys", "values", "copy", "update", "pop", "setdefault"}


def _reads():
    """``(file, dotted key)`` for every ``cfg.A.b`` / ``cfg.A.get("b")`` / ``setting(cfg, "A.b")`` read."""
    found = set()
    for pattern in _SOURCES:
        for path in glob.glob(os.path.join(ROOT, pattern)):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for chain, key in re.findall(r"\bcfg((?:\.[A-Za-z_]\w*)*)\.get\(\s*[\"'](\w+)[\"']", text):
                found.add((os.path.relpath(path, ROOT), ".".join(chain.strip(".").split(".") + [key]).strip(".")))
            for dotted in re.findall(r"\bsetting\(\s*cfg\s*,\s*f?[\"']([\w.]+)[\"']", text):
                found.add((os.path.relpath(path, ROOT), dotted))
            for chain in re.findall(r"\bcfg((?:\.[A-Za-z_]\w*)+)", text):
                parts = [p for p in chain.strip(".").split(".")]
                cut = next((i for i, p in enumerate(parts) if p in _DICT_METHODS), len(parts))
                if parts[:cut]:
                    found.add((os.path.relpath(path, ROOT), ".".join(parts[:cut])))
    return sorted(found)


def test_every_key_the_code_reads_is_declared():
    reads = _reads()
    # the scan finds reads at all, setting() reads included
    assert any(w.startswith("paddlevideo/tasks/") and key == "log_interval" for w, key in reads), reads
    for where, dotted in reads:
        spec = SCHEMA
        for part in dotted.split("."):
            if "section" not in spec.kinds:
                break  # a method of a declared value (cfg.log_level.upper)
            if part not in spec.children:
                assert spec.open, f"{where} reads cfg.{dotted}, which config_schema.py does not declare"
                break
            spec = spec.children[part]


def test_checked_config_keeps_attribute_access():
    cfg = check_config(demo(), "train")
    assert isinstance(cfg, AttrDict) and isinstance(cfg.DATASET, AttrDict)


def test_default_output_dir_that_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "TSN_demo").write_text("")
    with pytest.raises(ConfigError, match=r"output_dir: the default 'output/TSN_demo' is an existing file"):
        check_config(demo(), "train")
    assert check_config(demo(f"output_dir={tmp_path}"), "train")
