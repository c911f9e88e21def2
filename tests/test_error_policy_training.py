"""The error policy at the training side's edges: no exit from inside the library, programmer errors keep
their traceback."""
import os
import subprocess
import sys

from conftest import ROOT


def test_missing_paddle_is_a_user_error_that_run_cli_prints_as_one_line(tmp_path):
    # A fake 'paddle' that fails to import stands in for a Python without Paddle.
    fake = tmp_path / "paddle"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named paddle')\n")
    code = ("import paddlevideo.utils.runtime as r\n"
            "from paddlevideo.utils.errors import UserError, run_cli\n"
            "try:\n    r.require_paddle()\nexcept UserError:\n    print('raised, not exited')\n"
            "raise SystemExit(run_cli('main.py', r.require_paddle))\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert out.returncode == 2 and out.stdout == "raised, not exited\n"
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("main.py: error: PaddlePaddle is not installed"), out.stderr
    assert "make demo" in lines[0]
