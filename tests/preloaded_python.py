"""A ``python`` for test sandboxes whose scripts start without paying for ``import paddle`` each time.

``PreloadedPython(bin_dir, env)`` starts one server process that does what our entry points do before
their work (the CPU runtime set-up, then the Paddle and paddlevideo imports) and waits on a Unix socket.
It writes ``bin_dir/python``, a small client. ``python script.py ARGS``, ``python -c CODE ARGS`` and
``python -m MODULE ARGS`` go to the server with the caller's argv, working directory, environment and
standard streams (passed as file descriptors). The server forks; the child runs the script as
``__main__`` as the interpreter would (``sys.argv``, ``sys.path[0]``, exit status, uncaught tracebacks
on stderr); the client exits with the child's status. ``-u`` is accepted (the server's streams are
unbuffered); other interpreter options run the real interpreter. A script's ``sys.executable`` is the
client, so what it starts with it (``paddle.distributed.launch``'s workers) forks from the server too.

What this gives up: a script sees Paddle already imported, so it cannot test what happens *before*
``import paddle`` (the tests that do run the real interpreter).
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys

PRELOAD = ("paddle", "paddle.inference", "paddle.jit", "cv2", "paddlevideo.tasks.train", "paddlevideo.tasks.test",
           "paddlevideo.inference.api", "paddlevideo.inference.export")
MAX_REQUEST = 1 << 20

CLIENT = r'''#!{python} -S
# Written by tests/preloaded_python.py: hands `python script.py|-c CODE|-m MODULE ...` to the preloaded server.
import json, os, socket, struct, sys
args = sys.argv[1:]
if args[:1] == ["-u"]:  # the server's streams are unbuffered already (launch starts workers with -u)
    args = args[1:]
is_script = bool(args) and not args[0].startswith("-") and os.path.isfile(args[0])
if not (is_script or args[:1] in (["-c"], ["-m"]) and len(args) > 1):  # options, or a missing script
    os.execv({python!r}, [{python!r}] + args)
with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
    conn.connect({socket_path!r})
    request = json.dumps({{"argv": args, "cwd": os.getcwd(), "env": dict(os.environ),
                          "executable": os.path.abspath(sys.argv[0])}}).encode()
    socket.send_fds(conn, [request], [0, 1, 2])
    reply = conn.recv(4)
sys.exit(struct.unpack("i", reply)[0] if len(reply) == 4 else 1)
'''


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _run_as_main(argv, cwd, env, executable) -> int:
    """In the forked child: run ``argv`` as ``python ARGV`` would; returns the exit status. ``sys.executable`` is
    the client, as it would be for an interpreter at that path: processes a script starts with it (the workers
    of ``paddle.distributed.launch``) fork from the server too."""
    import atexit
    import runpy
    import types
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.executable = executable
    status = 0
    try:
        if argv[0] == "-c":
            sys.argv, sys.path[0] = ["-c"] + argv[2:], ""
            module = types.ModuleType("__main__")
            sys.modules["__main__"] = module
            exec(compile(argv[1], "<string>", "exec"), module.__dict__)
        elif argv[0] == "-m":
            sys.argv, sys.path[0] = [argv[1]] + argv[2:], os.getcwd()
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv, sys.path[0] = list(argv), os.path.dirname(os.path.realpath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exc:
        status = _exit_status(exc)
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
        status = 130
    except BaseException:  # what the interpreter does with an uncaught exception
        sys.excepthook(*sys.exc_info())
        status = 1
    atexit._run_exitfuncs()
    return status


def _session(conn):
    """One client: receive its request and streams, run it in a child, send back the exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it; this process waits for its child
    request, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
    request = json.loads(request)
    child = os.fork()
    if child == 0:
        conn.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        status = 1
        try:
            status = _run_as_main(request["argv"], request["cwd"], request["env"], request["executable"])
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(status)
    for fd in fds:
        os.close(fd)
    _, wait_status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(wait_status)
    conn.send(struct.pack("i", code if code >= 0 else 128 - code))


def serve(socket_path, modules):
    """The server: import ``modules`` (Paddle as the entry points import it: after the CPU runtime set-up,
    without its start-up chatter), say ``ready`` on stdout, then serve each client in a forked session."""
    import importlib
    if "paddle" in modules:
        from paddlevideo.utils.runtime import require_paddle, setup_cpu_runtime
        setup_cpu_runtime()
        require_paddle()
    for name in modules:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(socket_path)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished sessions are reaped by the kernel
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            try:
                _session(conn)
            finally:
                os._exit(0)
        conn.close()


class PreloadedPython:
    """Context manager: the server running, and ``bin_dir/python`` pointing at it (put ``bin_dir`` first on PATH)."""

    def __init__(self, bin_dir, env, log_path, modules=PRELOAD):
        self.bin_dir, self.env, self.log_path, self.modules = str(bin_dir), dict(env), str(log_path), list(modules)
        self.socket_path = os.path.join(self.bin_dir, "preloaded.sock")
        self.socket_dir = None
        if len(self.socket_path) > 100:  # AF_UNIX paths end at 107 bytes: a long temp folder gets a short one
            import tempfile
            self.socket_dir = tempfile.mkdtemp(prefix="pp-", dir="/tmp")
            self.socket_path = os.path.join(self.socket_dir, "s")
        self.client = os.path.join(self.bin_dir, "python")
        self.server = None

    def __enter__(self):
        os.makedirs(self.bin_dir, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.server = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), self.socket_path, *self.modules],
                env=dict(self.env, PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        line = self.server.stdout.readline()  # blocks until the imports are done (or the server died)
        if line.strip() != b"ready":
            self.server.wait(timeout=60)
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                raise RuntimeError(f"the preloaded python server did not start:\n{f.read()[-3000:]}")
        with open(self.client, "w", encoding="utf-8") as f:
            f.write(CLIENT.format(python=sys.executable, socket_path=self.socket_path))
        os.chmod(self.client, 0o755)
        return self

    def __exit__(self, *exc):
        self.server.kill()
        self.server.wait(timeout=60)
        self.server.stdout.close()
        if self.socket_dir:
            import shutil
            shutil.rmtree(self.socket_dir, ignore_errors=True)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
