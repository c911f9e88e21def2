"""``-p/--profiler_options``: every option PaddleVideo documents, in real short trainings (ResNet-18, 32x32),
with the exit status checked."""
import glob
import os

import pytest

from conftest import main_in_process, make_rawframes, write_small_config
from paddlevideo.tasks.profiler import parse_profiler_options
from paddlevideo.utils.errors import UserError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_rawframes(str(tmp_path_factory.mktemp("profiler_frames")), per_class=2, num_frames=4,
                          val_per_class=1, size=(48, 36))  # 4 training clips: 4 iterations of batch 1


@pytest.fixture
def train(data, tmp_path, monkeypatch, capsys):
    """``train(options, epochs)`` -> (result, output folder), run in ``tmp_path`` (PaddleVideo's trace folder is
    relative to the working folder)."""
    monkeypatch.chdir(tmp_path)

    def run(options, epochs):
        out = str(tmp_path / "out")
        cfg = write_small_config(data, out, epochs=epochs, batch_size=1)
        return main_in_process("-c", cfg, "-p", options, capsys=capsys), out
    return run


def _checkpoints(out):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*_epoch_*.pdparams")))


@pytest.mark.slow
def test_defaults_time_the_range_print_paddles_summary_and_end_training_with_status_0(train, tmp_path):
    # timer_only and exit_on_finished default to True; Paddle's timer skips the first 10 steps it sees.
    proc, out = train("batch_range=[2,13]", epochs=5)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and proc.stderr.strip() == ""
    assert "Perf Summary" in proc.stdout and "batch_cost" in proc.stdout
    assert "profiler: iterations [2, 13) timed (timer_only" in proc.stdout
    # Iteration 13 (epoch 4, step 1) never runs; epoch 4 is not saved, as PaddleVideo exits there.
    assert "profiling finished before epoch 4 step 1 (exit_on_finished)" in proc.stdout
    assert "epoch:[  4/5  ] train step:0 " in proc.stdout and "epoch:[  4/5  ] train step:1 " not in proc.stdout
    assert _checkpoints(out) == [f"TSN_demo_epoch_{e:05d}.pdparams" for e in (1, 2, 3)]
    assert not glob.glob(str(tmp_path / "profiler_log" / "*")), "timer_only writes no trace"


@pytest.mark.slow
def test_operator_profile_with_a_trace_and_training_that_goes_on(train, tmp_path):
    trace = tmp_path / "trace"
    proc, out = train(f"batch_range=[1, 3]; timer_only=False; profile_path={trace}; exit_on_finished=false; "
                      "state=CPU; sorted_key=total; tracer_option=OpDetail", epochs=1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert f"profiler: iterations [1, 3) profiled, trace in {trace}" in proc.stdout
    assert "Operator Summary" in proc.stdout  # Paddle's tables
    assert glob.glob(str(trace / "*.json")), "no Chrome trace written"
    assert "train step:3 " in proc.stdout and "training TSN_demo finished" in proc.stdout
    assert _checkpoints(out) == ["TSN_demo_epoch_00001.pdparams"]


@pytest.mark.slow
def test_a_range_longer_than_training_is_closed_at_the_end(train, tmp_path):
    proc, out = train(f"batch_range=[1,50];timer_only=False;profile_path={tmp_path / 't'}", epochs=1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "profiler: iterations [1, 50) profiled" in proc.stdout and "training TSN_demo finished" in proc.stdout
    assert glob.glob(str(tmp_path / "t" / "*.json"))


@pytest.mark.parametrize("options, needle", [
    ("batch_rang=[1,3]", "no option 'batch_rang' (did you mean batch_range?)"),
    ("batch_range=[3,1]", "batch_range must be [start,end] with 0 <= start < end, got [3,1]"),
    ("batch_range=[1,2,3]", "batch_range must be [start,end]"),
    ("timer_only", "item 'timer_only' must look like key=value"),
])
def test_bad_options_are_one_line_exit_2(train, options, needle):
    proc, _ = train(options, epochs=1)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: error: --profiler_options") and needle in lines[0]


def test_booleans_and_defaults_are_paddlevideos():
    assert parse_profiler_options("") == {
        "batch_range": [10, 20], "state": "All", "sorted_key": "total", "tracer_option": "Default",
        "profile_path": "./profiler_log", "exit_on_finished": True, "timer_only": True}
    for text in ("yes", "TRUE", "t", "1"):
        assert parse_profiler_options(f"exit_on_finished={text};timer_only={text}")["timer_only"] is True
    for text in ("no", "false", "0", "off"):
        options = parse_profiler_options(f"exit_on_finished={text};timer_only={text}")
        assert options["exit_on_finished"] is False and options["timer_only"] is False
    with pytest.raises(UserError):
        parse_profiler_options("batch_range=[a,b]")
