"""Several runs in one Python process behave as runs in fresh processes (the Python API, notebooks)."""
import os

import pytest

from conftest import main_captured, write_small_config


@pytest.mark.slow  # two short trainings
def test_a_run_resumes_what_an_earlier_run_of_the_same_process_saved(small_frames, tmp_path):
    """Paddle names optimizer accumulators from a per-process counter; each run starts it afresh, so the
    second run's --resume finds the accumulator names the first run saved (not ``..._velocity_1``)."""
    out = tmp_path / "out"
    cfg = write_small_config(small_frames, str(out), path=str(tmp_path / "cfg.yaml"), epochs=1)
    first = main_captured("-c", cfg)
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = main_captured("-c", cfg, "-o", "epochs=2", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Traceback" not in resumed.stderr
    assert os.path.isfile(out / "TSN_demo_epoch_00002.pdparams")
