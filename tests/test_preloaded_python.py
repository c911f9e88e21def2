"""The docs test's preloaded ``python`` behaves like the interpreter where the docs test relies on it: exit
status, uncaught tracebacks, argv, sys.path[0], working directory, environment and streams, pipes."""
import os
import subprocess
import sys

import pytest

from preloaded_python import PreloadedPython

SCRIPT = """import os, sys
print("argv", sys.argv)
print("path0", sys.path[0])
print("cwd", os.getcwd())
print("env", os.environ.get("PRELOAD_PROBE"))
print("main", __name__, "json" in sys.modules)
print("executable", sys.executable)
sys.stderr.write("to stderr\\n")
mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode == "raise":
    raise ValueError("boom")
if mode == "exit3":
    sys.exit(3)
if mode == "message":
    sys.exit("a message")
if mode == "kill":
    import signal
    os.kill(os.getpid(), signal.SIGTERM)
"""


@pytest.fixture(scope="module")
def preloaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("preloaded")
    (root / "pkg").mkdir()
    (root / "pkg" / "probe.py").write_text(SCRIPT)
    bin_dir = root / "bin"
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    with PreloadedPython(bin_dir, env, root / "server.log", modules=["json"]):
        yield root, env


def _bash(command, root, env, **extra):
    return subprocess.run(["bash", "-c", "set -o pipefail\n" + command], cwd=root, env=dict(env, **extra),
                          capture_output=True, text=True, timeout=60)


def test_a_script_sees_what_the_interpreter_would_give_it(preloaded):
    root, env = preloaded
    out = _bash("python pkg/probe.py a 'b c'", root, env, PRELOAD_PROBE="42")
    assert out.returncode == 0, out.stderr
    assert "argv ['pkg/probe.py', 'a', 'b c']" in out.stdout
    assert f"path0 {os.path.realpath(root / 'pkg')}" in out.stdout
    assert f"cwd {os.path.realpath(root)}" in out.stdout
    assert "env 42" in out.stdout and "main __main__ True" in out.stdout  # preloaded: json already imported
    assert f"executable {root / 'bin' / 'python'}" in out.stdout  # what starts python again comes back here
    assert out.stderr == "to stderr\n"
    unbuffered = _bash("python -u pkg/probe.py", root, env)
    assert unbuffered.returncode == 0 and "main __main__ True" in unbuffered.stdout


@pytest.mark.parametrize("mode, status, in_stderr", [("raise", 1, "ValueError: boom"), ("exit3", 3, ""),
                                                      ("message", 1, "a message"), ("kill", 143, "")])
def test_failures_keep_their_status_and_message(preloaded, mode, status, in_stderr):
    root, env = preloaded
    out = _bash(f"python pkg/probe.py {mode}", root, env)
    assert out.returncode == status, out.stderr
    assert in_stderr in out.stderr
    assert ("Traceback (most recent call last)" in out.stderr) == (mode == "raise")


def test_c_m_stdin_pipes_and_the_real_interpreter_for_options(preloaded):
    root, env = preloaded
    out = _bash("python -c 'import sys; print(sys.argv, sys.path[0] == \"\"); sys.exit(4)' x | tr a-z A-Z",
                root, env)
    assert out.returncode == 4 and out.stdout == "['-C', 'X'] TRUE\n"
    module = _bash("echo '{\"a\": [1]}' | python -m json.tool --compact", root, env)
    assert module.returncode == 0 and module.stdout == '{"a":[1]}\n', module.stderr
    real = _bash("python -S -c 'import sys; print(\"json\" in sys.modules, sys.executable)'", root, env)
    assert real.returncode == 0 and real.stdout == f"False {sys.executable}\n"  # options: the real interpreter
    missing = _bash("python no_such_script.py", root, env)
    assert missing.returncode == 2 and "can't open file" in missing.stderr


def test_a_long_temporary_folder_still_gets_a_socket(tmp_path):
    bin_dir = tmp_path / ("d" * 60) / ("e" * 60)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    with PreloadedPython(bin_dir, env, tmp_path / "server.log", modules=["json"]) as server:
        assert len(server.socket_path) <= 100
        out = subprocess.run(["python", "-c", "import sys; print('json' in sys.modules)"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "True\n"
    assert not os.path.exists(server.socket_path)
