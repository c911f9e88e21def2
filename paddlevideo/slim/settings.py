"""The keys of a quantization config (PaddleVideo's ``*_quantization.yaml``), checked once, before any work.

PaddleVideo's ``deploy/slim/quant_post_static.py`` reads ``DATASET.batch_size`` / ``batch_nums`` /
``num_workers`` / ``quant``, ``PIPELINE.quant``, ``inference_model_dir``, ``quant_output_dir`` and
``model_name``, with its defaults (``model_name: inference``, ``inference_model_dir:
inference/<model_name>``, ``quant_output_dir: <inference_model_dir>/quant_model``). Every problem is one
``ConfigError`` line naming the key and what was expected.
"""
import os
from dataclasses import dataclass

from ..utils.config import ConfigError
from ..utils.config_check import closest

_KEYS = {
    "": ("DATASET", "PIPELINE", "inference_model_dir", "quant_output_dir", "model_name", "log_level"),
    "DATASET": ("batch_size", "batch_nums", "num_workers", "quant"),
    "PIPELINE": ("quant",),
}
_REQUIRED = {
    "DATASET": "the calibration data and its loader",
    "DATASET.batch_nums": "how many loader batches calibrate the model",
    "DATASET.quant": "the calibration list: a FrameDataset or VideoDataset section",
    "DATASET.quant.format": "FrameDataset or VideoDataset",
    "DATASET.quant.file_path": "the calibration list file",
    "PIPELINE": "the calibration ops",
    "PIPELINE.quant": "the valid-mode ops (decode, sample, transform) of the calibration clips",
}


@dataclass(frozen=True)
class QuantSettings:
    """What one quantization run reads and writes."""
    config_path: str
    model_name: str
    inference_model_dir: str
    quant_output_dir: str
    batch_size: int
    batch_nums: int
    num_workers: int
    dataset: dict
    pipeline: dict

    def source(self, suffix: str) -> str:
        """``<inference_model_dir>/<model_name><suffix>``: the exported model's files."""
        return os.path.join(self.inference_model_dir, self.model_name + suffix)

    def output(self, suffix: str) -> str:
        """``<quant_output_dir>/<model_name><suffix>``: the quantized model's files."""
        return os.path.join(self.quant_output_dir, self.model_name + suffix)


def _get(cfg, dotted):
    node = cfg
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _check_known_keys(cfg, where):
    for section, known in _KEYS.items():
        node = cfg if not section else cfg.get(section)
        if not isinstance(node, dict):
            if section and section in cfg:
                raise ConfigError(f"{where}: {section}: got {node!r}, expected a mapping")
            continue
        for key in node:
            if key not in known:
                near = closest(key, known)
                full = f"{section}.{key}" if section else str(key)
                hint = f"did you mean '{section + '.' if section else ''}{near}'?" if near else \
                    f"known keys{' in ' + section if section else ''}: {', '.join(known)}"
                raise ConfigError(f"{where}: unknown key '{full}' in a quantization config; {hint}")


def _int(cfg, dotted, default, minimum, where):
    value = _get(cfg, dotted)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}: {dotted}: got {value!r}, expected an integer >= {minimum}")
    return value


def _text(cfg, dotted, default, where):
    value = _get(cfg, dotted)
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {dotted}: got {value!r}, expected a non-empty string")
    return value


def quant_settings(cfg, config_path: str) -> QuantSettings:
    """Check a loaded quantization config (``AttrDict``) and return its settings; ``ConfigError`` otherwise."""
    where = config_path
    _check_known_keys(cfg, where)
    for dotted, meaning in _REQUIRED.items():
        if _get(cfg, dotted) is None:
            raise ConfigError(f"{where}: missing key '{dotted}': quantization needs it ({meaning})")
    for dotted in ("DATASET.quant", "PIPELINE.quant"):
        if not isinstance(_get(cfg, dotted), dict):
            raise ConfigError(f"{where}: {dotted}: got {_get(cfg, dotted)!r}, expected a mapping")
    model_name = _text(cfg, "model_name", "inference", where)
    if os.sep in model_name or (os.altsep and os.altsep in model_name):
        raise ConfigError(f"{where}: model_name: got {model_name!r}, expected a file name without folders")
    model_dir = _text(cfg, "inference_model_dir", os.path.join("inference", model_name), where)
    return QuantSettings(
        config_path=config_path, model_name=model_name, inference_model_dir=model_dir,
        quant_output_dir=_text(cfg, "quant_output_dir", os.path.join(model_dir, "quant_model"), where),
        batch_size=_int(cfg, "DATASET.batch_size", 1, 1, where),
        batch_nums=_int(cfg, "DATASET.batch_nums", None, 1, where),
        num_workers=_int(cfg, "DATASET.num_workers", 0, 0, where),
        dataset=cfg.DATASET.quant, pipeline=cfg.PIPELINE.quant)
