"""Serve an exported TSN over HTTP: FastAPI + uvicorn around ``paddlevideo.Predictor`` (docs/serving.md).

    python deploy/python_serving/serve.py --model_dir inference/TSN [--host 127.0.0.1] [--port 8080] \
        [--precision fp32|bf16|int8] [--top_k 5] [--label_list data/k400/Kinetics-400_label_list.txt]

``GET /health``, ``POST /predict`` (multipart field ``file``; ``?top_k=N``), ``GET /`` (upload page).
Needs ``pip install -e .[serve]``. SIGTERM (or Ctrl-C) stops accepting connections, finishes the
requests in flight and exits 0.
"""
import argparse
import os
import signal
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for folder in (ROOT, HERE):
    if folder not in sys.path:
        sys.path.insert(0, folder)

import paddlevideo  # noqa: E402
from paddlevideo.utils.errors import UserError  # noqa: E402

PROGRAM = "serve.py"
API_KEY_ENV = "PADDLEVIDEO_API_KEY"


class ServeError(UserError, ValueError):
    """A flag value serve.py cannot run with, a port it cannot bind, or a serving package not installed."""


SERVE_PACKAGES = (("fastapi", "fastapi"), ("uvicorn", "uvicorn"), ("python_multipart", "python-multipart"))


def require_serve_packages():
    """Each missing serving package is one line with its pip command."""
    from paddlevideo.utils.optional import import_optional
    for module, pip_name in SERVE_PACKAGES:
        import_optional(module, pip_name, PROGRAM, ServeError, hint=" (pip install -e .[serve] installs all three)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(PROGRAM, description="Serve an exported TSN over HTTP (docs/serving.md)")
    parser.add_argument("--model_dir", required=True,
                        help="export folder holding <name>.pdmodel/.pdiparams/.yml (tools/export_model.py -o)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free port)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"])
    parser.add_argument("--top_k", type=int, default=None,
                        help="classes per result when the request gives no ?top_k= (default: the export's)")
    parser.add_argument("--label_list", default=None, help="'<index> <name>' per line: class names in results")
    parser.add_argument("--cpu_threads", type=int, default=None,
                        help="threads per predictor (default: usable CPUs / --pool_size)")
    parser.add_argument("--pool_size", type=int, default=1,
                        help="predictors run in parallel, each with its own copy of the model and its own "
                             "thread (default 1: one predictor already uses every core)")
    parser.add_argument("--max_upload_mb", type=float, default=256, help="larger uploads get 413 (default 256)")
    parser.add_argument("--max_queue", type=int, default=4,
                        help="requests waiting for a predictor; more get 503 + Retry-After (default 4)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds from accepting an upload to its result; later: 504 (default 300)")
    parser.add_argument("--api_key", default=None,
                        help=f"require 'Authorization: Bearer <key>' on POST /predict (or set {API_KEY_ENV})")
    parser.add_argument("--upload_dir", default=None,
                        help="folder in which the private upload folder is made (default: the system's temp)")
    return parser.parse_args(argv)


def check_args(args):
    """Every flag value usable, before the model is loaded; raises ``ServeError`` naming the flag."""
    positive = {"--pool_size": args.pool_size, "--max_upload_mb": args.max_upload_mb, "--timeout": args.timeout}
    if args.top_k is not None:
        positive["--top_k"] = args.top_k
    if args.cpu_threads is not None:
        positive["--cpu_threads"] = args.cpu_threads
    for flag, value in positive.items():
        if not value > 0:
            raise ServeError(f"{flag} must be positive, got {value}")
    if args.max_queue < 0:
        raise ServeError(f"--max_queue must be 0 or more, got {args.max_queue}")
    if not 0 <= args.port <= 65535:
        raise ServeError(f"--port must be from 0 to 65535, got {args.port}")
    if not os.path.isdir(args.model_dir):
        raise ServeError(f"--model_dir {args.model_dir}: no such folder (expected the folder that "
                             "tools/export_model.py -o wrote)")
    if args.upload_dir is not None and not os.path.isdir(args.upload_dir):
        raise ServeError(f"--upload_dir {args.upload_dir}: no such folder")


def make_predictors(args):
    """``--pool_size`` predictors on the export, threads split between them."""
    from paddlevideo.utils.runtime import require_paddle, usable_cpus
    require_paddle(PROGRAM)
    from paddlevideo import Predictor
    threads = args.cpu_threads or max(1, usable_cpus() // args.pool_size)
    return [Predictor(args.model_dir, precision=args.precision, top_k=args.top_k, label_list=args.label_list,
                      cpu_threads=threads) for _ in range(args.pool_size)]


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, before the model loads: a busy port is one line at once. It listens
    only when the server starts (asyncio calls ``listen``), so no client waits on a model still loading."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port} (--host/--port): {err.strerror or err}") from None
    return sock


def run_server(app, sock, log, ready_line) -> int:
    """Serve ``app`` on ``sock`` until SIGTERM/SIGINT; the requests in flight finish first. Returns 0.
    ``ready_line`` is logged once the socket listens."""
    import uvicorn

    class GracefulServer(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                log.info(ready_line)

        def handle_exit(self, sig, frame):
            if not self.should_exit:
                status = app.state.jobs.status()
                log.info(f"{signal.Signals(sig).name}: no new connections; finishing {status['in_flight']} "
                         f"running and {status['queue_depth']} waiting requests")
            super().handle_exit(sig, frame)

    caught = []
    # uvicorn re-raises the stop signal once it is done; these handlers take it, so the exit status is 0.
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", server_header=False,
                            timeout_graceful_shutdown=None)
    try:
        GracefulServer(config).run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        app.state.jobs.shutdown()
    log.info("stopped")
    return 0


def serve(args, predictor_factory=make_predictors) -> int:
    """The whole command; ``predictor_factory(args) -> [predictor, ...]`` (tests pass fakes)."""
    import logging
    log = logging.getLogger("paddlevideo.serve")
    check_args(args)
    require_serve_packages()
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    from serving_app import ServeSettings, create_app
    from serving_uploads import make_private_folder, remove_folder
    sock = bind(args.host, args.port)
    folder = None
    try:
        predictors = predictor_factory(args)
        folder = make_private_folder(args.upload_dir)
        settings = ServeSettings(upload_folder=folder, max_upload_bytes=int(args.max_upload_mb * 2**20),
                                 max_queue=args.max_queue, timeout_s=args.timeout, api_key=api_key)
        app = create_app(predictors, settings)
        info = predictors[0].info
        host, port = sock.getsockname()[:2]
        url_host = f"[{host}]" if ":" in host else host
        ready = (f"serving {info['model_name']} ({info['precision']}, {info['num_classes']} classes, "
                 f"{args.pool_size} predictor{'s' if args.pool_size > 1 else ''}) on http://{url_host}:{port}/ ; "
                 f"uploads up to {args.max_upload_mb:g} MB in {folder}; queue {args.max_queue}; "
                 f"timeout {args.timeout:g} s; API key {'required' if api_key else 'not required'}")
        if not api_key and host not in ("127.0.0.1", "::1", "localhost"):
            log.warning(f"listening on {host} without --api_key: anyone who reaches this port can use the model")
        return run_server(app, sock, log, ready)
    finally:
        sock.close()
        if folder is not None:
            remove_folder(folder)


def main(argv=None, predictor_factory=make_predictors) -> int:
    args = parse_args(argv)
    paddlevideo.setup_runtime()  # CPU threads and console logging, before Paddle is imported
    from paddlevideo.utils.errors import run_cli
    return run_cli(PROGRAM, lambda: serve(args, predictor_factory))


if __name__ == "__main__":
    sys.exit(main())
