"""Every config key the code reads, declared once: its type, allowed range or choices, default and meaning.

``check_config`` (``config_check.py``) walks a loaded config against ``SCHEMA``. A section marked
``open`` has a ``name`` (or ``framework``/``format``) key and passes its other keys to a constructor;
only the keys the code reads directly are declared there. When the section names a ``registry`` of
``paddlevideo/modeling`` (the recognizer, backbone and head), the check already knows the registered
names and each class's constructor arguments (read from its signature, ``registered_signatures.py``)
and refuses an unknown one with the closest accepted one; the other open sections are checked by the
constructor when built (``build_utils.build``, ``solver``). Every other section is closed: a key not
declared is an error naming the closest declared one.

``required`` lists the modes ("train", "train_validate", "test", "export", "predict") in which a key
must be present when its section is. A ``default`` is written into the checked config when the key
is absent (a callable default is computed from the section, e.g. ``valid_batch_size``); ``shown``
only documents a constructor's own default, which is left to the constructor.

Sizes and counts have upper bounds far above any real TSN run, so that a typo (``target_size=1000000``)
is one line naming the key instead of a memory error, an abort or a hang later. ``OP_ARGUMENTS``
declares the pipeline ops' size arguments, checked wherever an op is configured (``PIPELINE``) or
described (an exported ``.yml``'s ``preprocess``, through ``config_check.check_op_spec``).
"""
import os
from dataclasses import dataclass, field

MODES = ("train", "train_validate", "test", "export", "predict")
MODE_TEXT = {"train": "training", "train_validate": "training with --validate", "test": "--test",
             "export": "export", "predict": "predict"}
TRAIN = frozenset({"train", "train_validate"})
MODEL_MODES = TRAIN | {"test", "export"}
DATA_MODES = TRAIN | {"test"}
NO_DEFAULT = object()

MAX_SIDE = 1024            # pixels: a short side or crop (TSN uses 224-256)
MAX_SEGMENTS = 256         # segments per clip (TSN uses 3, 8 or 25)
MAX_SEG_LEN = 64           # frames per segment (TSN uses 1)
MAX_BATCH = 1024           # clips per batch and process
MAX_WORKERS = 64           # loader processes
MAX_EPOCHS = 10_000        # PaddleVideo's TSN trains 100
MAX_TOP_K = 1000           # classes printed per video
NAME_MAX = 255             # bytes in one file name (ext4, XFS, btrfs, APFS, NTFS)
# The longest file name a run writes: the last checkpoint's temp file (atomic_write: "." + 8 random + ".tmp").
LONGEST_NAME_SUFFIX = f"_epoch_{MAX_EPOCHS:05d}.pdparams.XXXXXXXX.tmp"
MAX_MODEL_NAME = NAME_MAX - len(LONGEST_NAME_SUFFIX)


@dataclass(frozen=True)
class Key:
    kinds: tuple                        # "int", "float", "bool", "str", "null", "section", "list", "ops", "any"
    doc: str
    default: object = NO_DEFAULT        # filled in when absent; callable(section) for derived defaults
    shown: str = ""                     # default as documented (derived or a constructor's own)
    required: frozenset = frozenset()   # modes in which the key must be present
    min: float = None
    max: float = None
    max_open: bool = False              # max is exclusive: [min, max)
    cap: float = None                   # a sanity upper bound (named in the message only when exceeded)
    gt: float = None                    # strictly greater than
    choices: tuple = None
    ignore_case: bool = False           # choices compared upper-cased
    pattern: str = None                 # a string must contain this regular expression (upper-cased)
    length: int = None                  # list length
    children: dict = field(default_factory=dict)
    open: bool = False                  # other keys are constructor arguments, checked when built
    refused: str = ""                   # a PaddleVideo key this reimplementation does not support
    not_file: bool = False              # a folder path that must not be an existing file
    registry: str = None                # open section built through this modeling registry ("HEADS")
    name_key: str = "name"              # the key naming the registered class
    op: bool = False                    # a pipeline op mapping: its name's OP_ARGUMENTS are checked
    check: object = None                # callable(value) -> what is wrong (one clause) or None
    range_doc: str = ""                 # the range column for a ``check``


def Int(doc, **kw):
    return Key(("int",), doc, **kw)


def Num(doc, **kw):
    return Key(("float",), doc, **kw)


def Str(doc, **kw):
    return Key(("str",), doc, **kw)


def Section(doc, children, **kw):
    return Key(("section",), doc, children=dict(children), **kw)


def Refused(reason):
    return Key(("any",), reason, refused=reason)


def _op(doc, modes):
    return Section(doc, [("name", Str("the op (a registered pipeline op)", required=modes))], open=True, op=True)


def _file_name_problem(name):
    """What keeps ``name`` from being one file-name component that every file of a run fits in, or None."""
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        return "expected one file name (not empty, '.' or '..'; no '/', '\\' or NUL)"
    try:
        size = len(os.fsencode(name))
    except UnicodeError:
        return "expected a name the file system can encode"
    if size > MAX_MODEL_NAME:
        return (f"{size} bytes, expected at most {MAX_MODEL_NAME} (the run writes <model_name>"
                f"{LONGEST_NAME_SUFFIX}, and a file name holds {NAME_MAX} bytes)")
    return None


def _side(doc, **kw):
    return Int(doc, min=1, cap=MAX_SIDE, **kw)


def _rgb(doc, **kw):
    return Key(("list",), doc, length=3, **kw)


_CROP = {"target_size": _side("crop side (pixels)")}
OP_ARGUMENTS = {name: Section(f"the {name} op (other keys: its arguments)", args, open=True) for name, args in {
    "Scale": {"short_size": _side("short side after scaling (pixels)")},
    "CenterCrop": _CROP, "TenCrop": _CROP, "ThreeCrop": _CROP, "RandomCrop": _CROP, "MultiScaleCrop": _CROP,
    "Sampler": {"num_seg": Int("segments per clip", min=1, cap=MAX_SEGMENTS),
                "seg_len": Int("frames per segment", min=1, cap=MAX_SEG_LEN)},
    "Normalization": {"mean": _rgb("mean (RGB)"), "std": _rgb("std (RGB)")},
}.items()}


def _split_pipeline(split, modes):
    return Section(f"the {split} ops, in this order", [
        ("decode", _op("`{name: FrameDecoder|VideoDecoder, ...}`", modes)),
        ("sample", _op("`{name: Sampler, num_seg, seg_len, valid_mode, select_left}`", modes)),
        ("transform", Key(("ops",), "a list of one-key maps `- OpName: {args}` (or `- OpName:`)")),
    ], required=modes)


def _split_dataset(split, modes):
    return Section(f"the {split} list and its dataset (other keys: the dataset's arguments)", [
        ("format", Str("`FrameDataset` or `VideoDataset`", required=modes)),
        ("file_path", Str("the list file", required=modes)),
    ], open=True, required=modes)


_LR_NESTED = Key(("float", "section"), "a scheduler wrapped by this one (e.g. LinearWarmup around "
                 "CosineAnnealingDecay)", gt=0, open=True,
                 children={"name": Str("a paddle.optimizer.lr class or a custom schedule", required=TRAIN)})

SCHEMA = Section("the whole config", [
    ("MODEL", Section("the network (other keys: Recognizer2D's arguments)", [
        ("framework", Str("the recognizer (`Recognizer2D`)", required=MODEL_MODES)),
        ("backbone", Section("the backbone (other keys: its arguments)", [
            ("name", Str("`ResNet`", required=MODEL_MODES)),
            ("depth", Int("ResNet depth", choices=(18, 34, 50, 101, 152), required=MODEL_MODES)),
            ("pretrained", Key(("str", "null"), "ImageNet weights loaded before training; '' or null: none "
                               "(ignored by --test and export)")),
            ("data_format", Str("layout; export always writes NCHW", choices=("NCHW", "NHWC"),
                                 shown="NCHW (ResNet's own)")),
        ], open=True, registry="BACKBONES", required=MODEL_MODES)),
        ("head", Section("the classifier head (other keys: its arguments)", [
            ("name", Str("`TSNHead`", required=MODEL_MODES)),
            ("num_classes", Int("number of classes", min=1, required=MODEL_MODES)),
            ("in_channels", Int("backbone channels: 512 for depth 18/34, 2048 otherwise", min=1,
                                required=MODEL_MODES)),
            ("drop_ratio", Num("dropout after the segment consensus", min=0, max=1, max_open=True,
                                shown="0.4 (TSNHead's own)")),
            ("ls_eps", Num("label smoothing", min=0, max=1, max_open=True, shown="0.0 (TSNHead's own)")),
        ], open=True, registry="HEADS", required=MODEL_MODES)),
    ], open=True, registry="RECOGNIZERS", name_key="framework", required=MODEL_MODES)),
    ("DATASET", Section("datasets and loaders", [
        ("batch_size", Int("training batch per process", min=1, cap=MAX_BATCH, default=8)),
        ("valid_batch_size", Int("validation batch per process", min=1, cap=MAX_BATCH,
                                 default=lambda s: s["batch_size"], shown="batch_size")),
        ("test_batch_size", Int("test batch per process", min=1, cap=MAX_BATCH, default=8)),
        ("num_workers", Int("loader worker processes (0: in the main process)", min=0, cap=MAX_WORKERS,
                            default=0)),
        ("valid_num_workers", Int("validation loader workers", min=0, cap=MAX_WORKERS,
                                  default=lambda s: s["num_workers"], shown="num_workers")),
        ("test_num_workers", Int("test loader workers", min=0, cap=MAX_WORKERS,
                                 default=lambda s: s["num_workers"], shown="num_workers")),
        ("train", _split_dataset("training", TRAIN)),
        ("valid", _split_dataset("validation", {"train_validate"})),
        ("test", _split_dataset("test", {"test"})),
    ], required=DATA_MODES)),
    ("PIPELINE", Section("per-clip ops of each split", [
        ("train", _split_pipeline("training", TRAIN)),
        ("valid", _split_pipeline("validation", {"train_validate"})),
        ("test", _split_pipeline("test", {"test"})),
    ], required=DATA_MODES)),
    ("OPTIMIZER", Section("the optimizer (other keys: the paddle.optimizer class's arguments)", [
        ("name", Str("a paddle.optimizer class (`Momentum`)", required=TRAIN)),
        ("learning_rate", Key(("float", "section"), "a fixed rate, or a schedule (other keys: its arguments)",
                              gt=0, open=True, required=TRAIN, children={
                                  "name": Str("a paddle.optimizer.lr class (`PiecewiseDecay`) or a custom "
                                              "schedule", required=TRAIN),
                                  "iter_step": Key(("bool",), "step the schedule every iteration, not every "
                                                   "epoch", default=False),
                                  "learning_rate": _LR_NESTED})),
        ("weight_decay", Key(("float", "section", "null"), "a number (the optimizer's own meaning) or "
                             "`{name: L1|L2, value}`", min=0, children={
                                 "name": Str("the decay; L1 or L2 anywhere in the name, as in PaddleVideo", pattern="L1|L2",
                                             required=TRAIN),
                                 "value": Num("decay coefficient", min=0, default=0.0)})),
        ("grad_clip", Key(("float", "section", "null"), "a global-norm bound or `{name, value}`", gt=0, children={
            "name": Str("the clip", choices=("ClipGradByGlobalNorm", "ClipGradByNorm", "ClipGradByValue"),
                        required=TRAIN),
            "value": Num("the norm (or value) bound", gt=0, required=TRAIN)})),
    ], open=True, required=TRAIN)),
    ("METRIC", Section("the test metric (other keys: its arguments)", [
        ("name", Str("`CenterCropMetric`", required={"test"})),
        ("log_interval", Int("log every N test batches", min=1, default=1)),
    ], open=True, required={"test"})),
    ("INFERENCE", Section("export input shape and predict preprocessing", [
        ("name", Str("the helper", choices=("ppTSN_Inference_helper",), default="ppTSN_Inference_helper")),
        ("num_seg", Int("segments per video", min=1, cap=MAX_SEGMENTS, default=25, required={"export"})),
        ("seg_len", Int("frames per segment", min=1, cap=MAX_SEG_LEN, default=1)),
        ("short_size", _side("short side after scaling", default=256)),
        ("target_size", _side("TenCrop size", default=224, required={"export"})),
        ("top_k", Int("classes printed per video", min=1, cap=MAX_TOP_K, default=1)),
        ("backend", Key(("str", "null"), "video decoder", choices=("decord", "cv2", "pyav"),
                        shown="cv2 (as training)")),
        ("mean", _rgb("normalisation mean (RGB)", default=[0.485, 0.456, 0.406])),
        ("std", _rgb("normalisation std (RGB)", default=[0.229, 0.224, 0.225])),
    ], required={"export", "predict"})),
    ("DALI_LOADER", Key(("any",), "accepted, not read: PaddleVideo's tsn_dali.yaml carries it for "
                        "--train_dali, which main.py refuses; the file still loads for --test")),
    ("model_name", Str("checkpoint and export file names", required=frozenset(MODES), check=_file_name_problem,
                       range_doc=f"one file name, at most {MAX_MODEL_NAME} bytes")),
    ("epochs", Int("training epochs", min=1, cap=MAX_EPOCHS, required=TRAIN)),
    ("log_interval", Int("log every N iterations", min=1, default=10)),
    ("save_interval", Int("save a checkpoint every N epochs (and after the last)", min=1, default=1)),
    ("val_interval", Int("validate every N epochs (and after the last)", min=1, default=1)),
    ("log_level", Str("console/file log level", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
                      ignore_case=True, default="INFO")),
    ("output_dir", Key(("str", "null"), "checkpoints, logs and config.yaml (not an existing file)",
                       shown="output/<model_name>", not_file=True)),
    ("resume_epoch", Int("continue after this saved epoch (0: a new run; --resume sets it)", min=0,
                         cap=MAX_EPOCHS, default=0)),
    # PaddleVideo features outside TSN: present and true, they would change the run, so they are refused.
    ("GRADIENT_ACCUMULATION", Refused("PaddleVideo's gradient accumulation is not supported here")),
    ("MIX", Refused("PaddleVideo's batch mix-up/cut-mix (MIX) is not supported here")),
    ("PRECISEBN", Refused("PaddleVideo's precise BatchNorm is not supported here")),
    ("to_static", Refused("PaddleVideo's to_static training is not supported here (export traces the model)")),
    ("use_npu", Refused("NPU devices are not supported here (CPU or GPU)")),
    ("use_xpu", Refused("XPU devices are not supported here (CPU or GPU)")),
])
