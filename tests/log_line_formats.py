"""PaddleVideo's literal log-line formats (``utils/record.py``, ``tasks/train.py``, ``metrics/center_crop_metric.py``),
as regular expressions over the message (after the ``[mm/dd HH:MM:SS] `` logger prefix).

Written from PaddleVideo's format strings, not from our formatter: ``epoch:[{:>3d}/{:<3d}]``, ``step:{:<4d}``,
metrics ``{:.5f}``, lr ``{:.6f}``, costs and ips ``{:.5f}``, ``END epoch:{:<3d}``.
"""
import re

_EPOCH = r"epoch:\[(?: {2}\d| \d{2}|\d{3,})/(?:\d {2}|\d{2} |\d{3,})\]"
_STEP = r"step:(?:\d {3}|\d{2} {2}|\d{3} |\d{4,})"
_F5 = r"\d+\.\d{5}"
_COSTS = rf"batch_cost: {_F5} sec, reader_cost: {_F5} sec, ips: {_F5} instance/sec"
_END_EPOCH = r"END epoch:(?:\d {2}|\d{2} |\d{3,})"
_END_COSTS = (rf"avg_batch_cost: {_F5} sec, avg_reader_cost: {_F5} sec, batch_cost_sum: {_F5} sec, "
              rf"avg_ips: {_F5} instance/sec\.")

TRAIN_STEP = re.compile(rf"{_EPOCH} train {_STEP} loss: {_F5} lr: \d+\.\d{{6}} top1: {_F5} top5: {_F5} "
                        rf"{_COSTS}, eta: (?:\d+ days?, )?\d+:\d\d:\d\d")
VAL_STEP = re.compile(rf"{_EPOCH} val {_STEP} loss: {_F5} top1: {_F5} top5: {_F5} {_COSTS}\.")
# The train END line keeps lr's empty average slot: two spaces after loss_avg.
TRAIN_END = re.compile(rf"{_END_EPOCH} train loss_avg: {_F5}  top1_avg: {_F5} top5_avg: {_F5} {_END_COSTS}")
VAL_END = re.compile(rf"{_END_EPOCH} val loss_avg: {_F5} top1_avg: {_F5} top5_avg: {_F5} {_END_COSTS}")
TEST_BATCH = re.compile(r"\[TEST\] Processing batch \d+/\d+ \.\.\.")
TEST_FINISHED = re.compile(r"\[TEST\] finished, avg_acc1=(\d\.\d+(?:e-\d+)?), avg_acc5=(\d\.\d+(?:e-\d+)?)")

_PREFIX = re.compile(r"^\[\d\d/\d\d \d\d:\d\d:\d\d\] ")


def messages(log_text, marker):
    """The messages (logger prefix removed) of every line of ``log_text`` that contains ``marker``."""
    return [_PREFIX.sub("", line) for line in log_text.splitlines() if marker in line]


def assert_all_match(log_text, marker, pattern, at_least=1):
    """Every line containing ``marker`` fully matches ``pattern``, and there are ``at_least`` of them."""
    lines = messages(log_text, marker)
    assert len(lines) >= at_least, f"expected {at_least}+ lines with {marker!r}, got {len(lines)}"
    for line in lines:
        assert pattern.fullmatch(line), f"not PaddleVideo's format: {line!r}"
    return lines
