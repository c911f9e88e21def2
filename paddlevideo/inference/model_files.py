"""Check exported model files before Paddle Inference sees them, and read the declared input shape.

Paddle Inference 3.3.1 crashes the process (SIGSEGV) on a ``.pdmodel`` that is not a program, so
files are validated here first and a bad one gives one clear ``InferenceError``.
"""
import json
import os

from .errors import InferenceError

MODEL_SUFFIXES = (".pdmodel", ".json")


def _require_file(path: str, flag: str, what: str):
    if not path:
        raise InferenceError(f"{flag} is required: the {what}")
    if not os.path.isfile(path):
        raise InferenceError(f"{flag}: file not found: {path}")
    if os.path.getsize(path) == 0:
        raise InferenceError(f"{flag}: file is empty (0 bytes): {path}")


def _pdmodel_inputs(path: str):
    from paddle.base import core
    with open(path, "rb") as f:
        data = f.read()
    try:
        desc = core.ProgramDesc(data)
    except Exception:  # Paddle raises ValueError(InvalidArgument) for bytes that are not a ProgramDesc
        raise InferenceError(f"--model_file {path} is not a Paddle program (.pdmodel); "
                             "export one with tools/export_model.py") from None
    block = desc.block(0)
    inputs = []
    for i in range(block.op_size()):
        op = block.op(i)
        if op.type() == "feed":
            name = op.output("Out")[0]
            inputs.append((name, list(block.var(name.encode()).shape())))
    return inputs


def _json_inputs(path: str):
    try:
        with open(path, "r", encoding="utf-8") as f:
            program = json.load(f)
        if program.get("base_code", {}).get("magic") != "pir":
            raise ValueError("no PIR magic")
        ops = program["program"]["regions"][0]["blocks"][0]["ops"]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, UnicodeDecodeError):
        raise InferenceError(f"--model_file {path} is not a Paddle PIR program (.json); "
                             "export one with tools/export_model.py --format json") from None
    inputs = []
    for op in ops:
        if op.get("#") != "1.data":
            continue
        attrs = {a.get("N"): a.get("AT", {}).get("D") for a in op.get("A", []) if isinstance(a, dict)}
        inputs.append((attrs.get("name"), attrs.get("shape")))
    return inputs


def check_model_files(model_file: str, params_file: str):
    """Validate a ``.pdmodel``/``.json`` + ``.pdiparams`` pair; return ``[(input name, shape)]`` (-1 = any).

    Raises ``InferenceError`` for a missing, empty or wrong-kind file.
    """
    _require_file(model_file, "--model_file", "exported program (.pdmodel or .json)")
    _require_file(params_file, "--params_file", "exported weights (.pdiparams)")
    if model_file.endswith(".pdiparams"):
        raise InferenceError(f"--model_file {model_file} is a weights file; pass the .pdmodel (or .json) "
                             "as --model_file and the .pdiparams as --params_file")
    if params_file.endswith((".pdmodel", ".json")):
        raise InferenceError(f"--params_file {params_file} is a program file; pass the .pdiparams")
    if model_file.endswith(".json"):
        return _json_inputs(model_file)
    if model_file.endswith(".onnx"):
        raise InferenceError(f"--model_file {model_file} is an ONNX model; pass it as --onnx_file")
    return _pdmodel_inputs(model_file)


def check_input_shape(declared, actual, model_file: str, source: str = "the config's INFERENCE section"):
    """Fail clearly when the preprocessed input ``actual`` cannot feed a model declaring ``declared``.

    ``declared`` uses -1/None for free dimensions; only fixed dimensions are compared. ``source``
    names where the preprocessing came from (the config's INFERENCE section, or ``X.yml``).
    """
    if declared is None:
        return
    ok = len(declared) == len(actual) and all(
        d is None or d == -1 or isinstance(d, str) or d == a for d, a in zip(declared, actual))
    if not ok:
        shown = ["?" if d is None or d == -1 or isinstance(d, str) else d for d in declared]
        raise InferenceError(
            f"{model_file} expects input {shown} but {source} produces {list(actual)}; predict with the "
            "config used for export (or --override INFERENCE.num_seg=... INFERENCE.target_size=...), "
            "or export the model again")
