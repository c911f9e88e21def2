"""metrics.jsonl: one reader (metrics_log.read_metrics) that skips a torn last line and names any bad record in
one line; a resumed run cuts the torn line before appending (never gluing onto it); plot_log uses that reader."""
import json
import os

import pytest

from conftest import load_tool
from paddlevideo.tasks.metrics_log import MetricsFileError, MetricsLog, read_metrics

plot_log = load_tool("tools/plot_log.py", "plot_log")


def _run(tmp_path, epochs=(1, 2)):
    log = MetricsLog(str(tmp_path))
    for epoch in epochs:
        log.write("epoch", "train", epoch=epoch, step=None, loss=1.0 / epoch, top1=0.5, top5=1.0, lr=0.1)
    return tmp_path / "metrics.jsonl"


def test_a_torn_last_line_is_skipped_by_the_reader_and_cut_by_the_resumed_run(tmp_path, caplog):
    path = _run(tmp_path)
    fragment = b'{"event": "epoch", "mode": "train", "ep'
    with open(path, "ab") as f:
        f.write(fragment)  # the run was killed in the middle of an append
    assert [r["epoch"] for r in read_metrics(str(path))] == [1, 2]
    assert sorted(plot_log.load_curves(str(path))["train"]) == [1, 2]
    with caplog.at_level("WARNING"):
        _run(tmp_path, epochs=(3,))  # the resumed run
    warnings = [r.getMessage() for r in caplog.records if "torn" in r.getMessage()]
    assert warnings == [f"{path}: removed a torn last line ({len(fragment)} bytes) left by an interrupted run"]
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line)["event"] == "epoch" for line in lines[:-1])
    assert [r["epoch"] for r in read_metrics(str(path))] == [1, 2, 3]


def test_a_complete_last_record_missing_only_its_newline_is_kept(tmp_path, caplog):
    path = _run(tmp_path)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert [r["epoch"] for r in read_metrics(str(path))] == [1, 2]
    with caplog.at_level("WARNING"):
        _run(tmp_path, epochs=(3,))
    assert "torn" not in caplog.text
    assert [r["epoch"] for r in read_metrics(str(path))] == [1, 2, 3]


BAD_RECORDS = {
    "not an object": (b'[1, 2]\n', "metrics.jsonl:3: expected a JSON object, got list"),
    "missing field": (b'{"mode": "train", "epoch": 3}\n', "metrics.jsonl:3: 'event' must be a string, got None"),
    "wrong type": (b'{"event": "epoch", "mode": "train", "epoch": 3, "loss": "low"}\n',
                   "metrics.jsonl:3: 'loss' must be a number or null, got 'low'"),
    "epoch not an integer": (b'{"event": "epoch", "mode": "val", "epoch": "3"}\n',
                             "metrics.jsonl:3: 'epoch' must be an integer >= 1 in an 'epoch' record, got '3'"),
    "not UTF-8": (b'{"event": "epoch", "mode": "train\xff"}\n', "metrics.jsonl:3: not UTF-8 (byte 0xff at column 34)"),
    "not JSON": (b'{"event": \n', "metrics.jsonl:3: not a JSON line"),
}


@pytest.mark.parametrize("kind", list(BAD_RECORDS))
def test_a_bad_record_is_one_line_naming_file_and_line(tmp_path, capsys, kind):
    record, says = BAD_RECORDS[kind]
    path = _run(tmp_path)
    with open(path, "ab") as f:
        f.write(record)
    with pytest.raises(MetricsFileError, match=says.replace("(", r"\(").replace(")", r"\)")):
        read_metrics(str(path))
    assert plot_log.main([str(path), "-o", str(tmp_path / "curves.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("plot_log.py: error: ") and says in err[0], err


def test_metrics_jsonl_that_is_a_folder_is_one_line_for_the_run_and_for_plot_log(tmp_path, capsys):
    (tmp_path / "metrics.jsonl").mkdir()
    with pytest.raises(MetricsFileError, match=r"metrics.jsonl: it is a folder, expected the run's metrics file"):
        MetricsLog(str(tmp_path))
    assert plot_log.main([str(tmp_path / "metrics.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == \
        f"plot_log.py: error: {tmp_path / 'metrics.jsonl'} is a folder, expected a metrics.jsonl or a training log file"
    (tmp_path / "paddlevideo.log").write_text("END epoch:1   train loss_avg: 1.0\n")
    assert plot_log.main([str(tmp_path / "paddlevideo.log")]) == 2  # the folder beside it is not ignored
    assert "metrics.jsonl is a folder, expected a metrics.jsonl file" in capsys.readouterr().err


def test_read_metrics_of_a_run_not_started_yet(tmp_path):
    assert read_metrics(str(tmp_path / "metrics.jsonl"), missing_ok=True) == []
    with pytest.raises(MetricsFileError, match="metrics file not found"):
        read_metrics(str(tmp_path / "metrics.jsonl"))
    assert os.listdir(tmp_path) == []
