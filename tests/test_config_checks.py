"""The shared checks: one op-spec check, one constructor-argument check, INFERENCE defaults from the schema."""
import ast
import copy
import os

import pytest

from paddlevideo.utils import config, config_check, errors
from paddlevideo.utils.config import parse_config
from paddlevideo.utils.config_check import check_config, check_op_spec, inference_settings, setting
from paddlevideo.utils.config_schema import NO_DEFAULT, SCHEMA
from paddlevideo.utils.spec_checks import accepted_arguments, check_arguments, op_spec_items

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "configs", "recognition", "tsn", "tsn_demo.yaml")


def _imported_modules(module):
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_config_error_lives_with_the_other_errors_and_the_cycle_is_gone():
    assert config.ConfigError is errors.ConfigError is config_check.ConfigError
    assert issubclass(errors.ConfigError, errors.UserError) and issubclass(errors.ConfigError, ValueError)
    assert "config" not in _imported_modules(config_check)  # config imports config_check, not back


class Refusal(errors.UserError):
    pass


@pytest.mark.parametrize("spec, where, message", [
    (["Scale"], "ops.0", "ops.0: got ['Scale'], expected a one-key mapping `OpName: {args}` or `OpName:`"),
    ({"Scale": {}, "X": {}}, "ops.1", "ops.1: got {'Scale': {}, 'X': {}}, expected a one-key mapping"),
    ({"Scale": 256}, "ops.2", "ops.2.Scale: got 256, expected a mapping of Scale's arguments or nothing"),
])
def test_one_op_spec_check_with_the_callers_error_class(spec, where, message):
    with pytest.raises(Refusal) as err:
        op_spec_items(spec, where, Refusal)
    assert str(err.value).startswith(message)
    assert op_spec_items({"Image2Array": None}) == ("Image2Array", {})
    assert op_spec_items({"Scale": {"short_size": 8}}) == ("Scale", {"short_size": 8})


def test_one_argument_check_names_owner_key_accepted_and_closest():
    def make(depth, pretrained=None, last_epoch=-1):
        return depth

    accepted = accepted_arguments(make)
    assert accepted == ["depth", "pretrained", "last_epoch"]
    check_arguments({"depth": 1, "last_epoch": 0}, accepted, "maker", Refusal, hidden=("last_epoch",))
    with pytest.raises(Refusal) as err:
        check_arguments({"deepth": 1}, accepted, "backbone 'Net'", Refusal, hidden=("last_epoch",))
    assert str(err.value) == "backbone 'Net' has no argument 'deepth'; it accepts: depth, pretrained; " \
                             "did you mean 'depth'?"
    with pytest.raises(Refusal, match=r"^unknown key 'MODEL.head.zzz': H has no argument 'zzz'; it accepts: "
                                      r"depth, pretrained, last_epoch$"):
        check_arguments({"zzz": 1}, accepted, "H", Refusal, key_path="MODEL.head")
    assert accepted_arguments(lambda **kwargs: None) is None  # **kwargs: anything goes
    check_arguments({"anything": 1}, None, "H", Refusal)


def test_inference_settings_fill_the_schema_defaults():
    declared = SCHEMA.children["INFERENCE"].children
    section = {"num_seg": 3, "target_size": 64}
    settings = inference_settings(section)
    assert section == {"num_seg": 3, "target_size": 64}  # not modified
    for key, spec in declared.items():
        if key in section:
            assert settings[key] == section[key]
        elif spec.default is NO_DEFAULT:
            assert key not in settings  # backend: the predicting machine's choice
        else:
            assert settings[key] == spec.default
    settings["mean"][0] = 0.0  # a copy, not the schema's list
    assert inference_settings({})["mean"][0] == declared["mean"].default[0] == 0.485
    assert inference_settings({"backend": "cv2"})["backend"] == "cv2"


@pytest.mark.parametrize("section, mode, message", [
    ({"numseg": 3}, "predict", "unknown key 'INFERENCE.numseg'; did you mean 'INFERENCE.num_seg'?"),
    ({"num_seg": 0}, "predict", "INFERENCE.num_seg: got 0, expected an integer"),
    ({"mean": [0.5]}, "predict", "INFERENCE.mean: got [0.5], expected a list of 3 numbers"),
    ({"name": "Other"}, "predict", "INFERENCE.name: got 'Other', expected one of ppTSN_Inference_helper"),
    ({"target_size": 64}, "export", "missing key 'INFERENCE.num_seg': export needs it"),
    (None, "predict", "the config has no INFERENCE section"),
])
def test_inference_settings_refuse_in_one_line(section, mode, message):
    with pytest.raises(errors.ConfigError) as err:
        inference_settings(section, mode)
    assert message in str(err.value) and "\n" not in str(err.value)


def _defaulted_keys(spec=SCHEMA, path=""):
    for name, child in spec.children.items():
        key = f"{path}.{name}" if path else name
        if child.default is not NO_DEFAULT:
            yield key
        if child.children and "section" in child.kinds and not child.refused:
            yield from _defaulted_keys(child, key)


def _drop(cfg, dotted):
    *parents, last = dotted.split(".")
    node = cfg
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def test_setting_gives_the_default_check_config_fills_in():
    keys = list(_defaulted_keys())
    assert "DATASET.valid_batch_size" in keys and "METRIC.log_interval" in keys
    bare = parse_config(DEMO)
    for key in keys:
        _drop(bare, key)
    bare.DATASET.batch_size = 5
    checked = check_config(copy.deepcopy(bare), "train_validate")
    for key in keys:
        node = checked
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            assert setting(bare, key) == node, key
    assert setting(bare, "DATASET.valid_batch_size") == 5  # derived from the given batch_size
    with pytest.raises(KeyError):
        setting(bare, "output_dir")  # neither set nor defaulted


@pytest.mark.parametrize("override, message", [
    ("MODEL.head.num_seg=8", "unknown key 'MODEL.head.num_seg': TSNHead has no argument 'num_seg'; it accepts: "
                             "num_classes, in_channels, loss_cfg, drop_ratio, std, ls_eps, data_format; "
                             "did you mean 'num_classes'?"),
    ("MODEL.backbone.deepth=50", "unknown key 'MODEL.backbone.deepth': ResNet has no argument 'deepth'; it "
                                 "accepts: depth, pretrained, data_format; did you mean 'depth'?"),
    ("MODEL.head.dropout=0.5", "did you mean 'drop_ratio'?"),
    ("MODEL.extra=1", "unknown key 'MODEL.extra': Recognizer2D has no argument 'extra'; it accepts: backbone, head"),
    ("MODEL.head.name=TSNHeadd", "MODEL.head.name: got 'TSNHeadd', expected a registered head: TSNHead"),
    ("MODEL.backbone.name=ResNett", "MODEL.backbone.name: got 'ResNett', expected a registered backbone: ResNet"),
    ("MODEL.framework=Recognizer3D", "MODEL.framework: got 'Recognizer3D', expected a registered recognizer: "
                                     "Recognizer2D"),
])
def test_model_sections_know_their_constructor_arguments(override, message):
    cfg = config.override_config(parse_config(DEMO), [override])
    for mode in ("train", "test", "export"):
        with pytest.raises(errors.ConfigError) as err:
            check_config(copy.deepcopy(cfg), mode)
        assert message in str(err.value) and "\n" not in str(err.value)


def test_every_constructor_argument_passes():
    cfg = config.override_config(parse_config(DEMO), [
        "MODEL.head.loss_cfg={'name': 'CrossEntropyLoss'}", "MODEL.head.std=0.02", "MODEL.head.data_format=NCHW",
        "MODEL.backbone.data_format=NCHW"])
    assert check_config(cfg, "train").MODEL.head.std == 0.02


def test_constructor_arguments_are_the_registered_classes_signatures():
    """The Paddle-free reading of paddlevideo/modeling equals inspect on the imported, registered classes."""
    from paddlevideo.modeling import registry
    from paddlevideo.utils.registered_signatures import registered_arguments, registry_label
    for variable in ("BACKBONES", "HEADS", "RECOGNIZERS", "LOSSES"):
        live = getattr(registry, variable)
        assert registry_label(variable) == live.name
        read = registered_arguments(variable)
        assert sorted(read) == live.names() and read, variable
        for name in live.names():
            assert read[name] == accepted_arguments(live.get(name)), (variable, name)


@pytest.mark.parametrize("override, message", [
    ("INFERENCE.target_size=1000000", "INFERENCE.target_size: got 1000000, expected an integer in [1, 1024]"),
    ("INFERENCE.short_size=5000", "INFERENCE.short_size: got 5000, expected an integer in [1, 1024]"),
    ("INFERENCE.num_seg=100000000", "INFERENCE.num_seg: got 100000000, expected an integer in [1, 256]"),
    ("INFERENCE.num_seg=1e8", "INFERENCE.num_seg: got 100000000.0, expected an integer >= 1"),
    ("PIPELINE.train.transform.4.Normalization.mean=[0.5, 0.5]",
     "PIPELINE.train.transform.4.Normalization.mean: got [0.5, 0.5], expected a list of 3 numbers"),
    ("PIPELINE.valid.transform.3.Normalization.std=0.2",
     "PIPELINE.valid.transform.3.Normalization.std: got 0.2, expected a list of 3 numbers"),
    ("PIPELINE.train.transform.0.Scale.short_size=5000",
     "PIPELINE.train.transform.0.Scale.short_size: got 5000, expected an integer in [1, 1024]"),
    ("PIPELINE.test.transform.1.TenCrop.target_size=0",
     "PIPELINE.test.transform.1.TenCrop.target_size: got 0, expected an integer >= 1"),
    ("PIPELINE.test.sample.num_seg=1000", "PIPELINE.test.sample.num_seg: got 1000, expected an integer in [1, 256]"),
    ("PIPELINE.train.sample.seg_len=100", "PIPELINE.train.sample.seg_len: got 100, expected an integer in [1, 64]"),
    ("DATASET.batch_size=100000", "DATASET.batch_size: got 100000, expected an integer in [1, 1024]"),
    ("DATASET.test_batch_size=2000", "DATASET.test_batch_size: got 2000, expected an integer in [1, 1024]"),
    ("DATASET.num_workers=100", "DATASET.num_workers: got 100, expected an integer in [0, 64]"),
    ("epochs=1000000", "epochs: got 1000000, expected an integer in [1, 10000]"),
    ("resume_epoch=20000", "resume_epoch: got 20000, expected an integer in [0, 10000]"),
])
def test_sizes_and_counts_have_upper_bounds(override, message):
    with pytest.raises(errors.ConfigError) as err:
        check_config(config.override_config(parse_config(DEMO), [override]), "train_validate")
    assert str(err.value) == message


def test_values_at_the_bounds_pass():
    cfg = config.override_config(parse_config(DEMO), [
        "INFERENCE.target_size=1024", "INFERENCE.num_seg=256", "DATASET.batch_size=1024", "epochs=10000",
        "PIPELINE.test.sample.num_seg=256", "PIPELINE.train.transform.0.Scale.short_size=1024"])
    assert check_config(cfg, "train_validate").INFERENCE.num_seg == 256


def test_exported_op_specs_get_the_same_bounds():
    assert check_op_spec({"TenCrop": {"target_size": 224}}, "x.yml preprocess.3") == ("TenCrop", {"target_size": 224})
    assert check_op_spec({"Image2Array": None}) == ("Image2Array", {})
    with pytest.raises(errors.ConfigError, match=r"^x.yml preprocess.3.TenCrop.target_size: got 1000000, "
                                                 r"expected an integer in \[1, 1024\]$"):
        check_op_spec({"TenCrop": {"target_size": 1000000}}, "x.yml preprocess.3")
    with pytest.raises(errors.ConfigError, match=r"^p.5.Normalization.mean: got \[0.5\], expected a list of 3"):
        check_op_spec({"Normalization": {"mean": [0.5], "std": [1, 1, 1]}}, "p.5")
    with pytest.raises(errors.ConfigError, match="one-key mapping"):
        check_op_spec(["Scale"], "p.0")


@pytest.mark.parametrize("name", ["sub/run", "../up", "..", ".", "", "a\\b", "nul\0byte"])
def test_model_name_is_one_file_name(name):
    cfg = parse_config(DEMO)
    cfg.model_name = name
    for mode in ("train", "test", "export", "predict"):
        with pytest.raises(errors.ConfigError) as err:
            check_config(copy.deepcopy(cfg), mode)
        assert str(err.value) == f"model_name: got {name!r}, expected one file name (not empty, '.' or '..'; " \
                                 "no '/', '\\' or NUL)"


def test_model_name_fits_the_longest_file_a_run_writes(tmp_path):
    from paddlevideo.utils.config_schema import LONGEST_NAME_SUFFIX, MAX_MODEL_NAME, NAME_MAX
    longest = "é" * (MAX_MODEL_NAME // 2) + "a" * (MAX_MODEL_NAME % 2)  # bytes, not characters, count
    cfg = parse_config(DEMO)
    cfg.model_name = longest
    assert check_config(cfg, "train").model_name == longest
    path = tmp_path / (longest + LONGEST_NAME_SUFFIX)  # the file system takes the longest name
    path.write_bytes(b"")
    assert len(os.fsencode(path.name)) == NAME_MAX and path.exists()
    cfg.model_name = longest + "a"
    with pytest.raises(errors.ConfigError) as err:
        check_config(cfg, "train")
    assert str(err.value).startswith("model_name: got '") and f"{MAX_MODEL_NAME + 1} bytes, expected at most " \
        f"{MAX_MODEL_NAME} (the run writes <model_name>{LONGEST_NAME_SUFFIX}" in str(err.value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 250  # the name is shortened in the line
