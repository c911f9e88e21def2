"""The HTTP service as a FastAPI app built around given predictors: ``create_app(predictors, settings)``.

``serve.py`` builds the predictors from an export and runs this app with uvicorn; tests build it around
fakes to drive the limits. Endpoints: ``GET /health``, ``POST /predict`` (multipart field ``file``,
optional ``top_k`` query), ``GET /`` (a one-file page). Every error is a one-line JSON object
``{"error": "..."}``; every request gets one access log line with its status, latency and top-1.
"""
import asyncio
import hmac
import logging
import os
import time
from dataclasses import dataclass
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from paddlevideo.utils.errors import UserError
from serving_queue import InferenceQueue
from serving_uploads import UploadError, check_declared_size, receive_upload, remove_file

logger = logging.getLogger("paddlevideo.serve")
INDEX_HTML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "index.html")


@dataclass
class ServeSettings:
    upload_folder: str  # private (0700) folder for the uploads of this process
    max_upload_bytes: int = 256 * 2**20
    max_queue: int = 4  # requests waiting beyond those being predicted
    timeout_s: float = 300.0  # from admission (upload included) to the result
    api_key: Optional[str] = None  # when set, POST /predict needs "Authorization: Bearer <key>"


def error(status: int, message: str, headers=None) -> JSONResponse:
    """``{"error": message}`` on one line (the message's own line breaks folded)."""
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status, headers=headers)


def top1_text(result: dict) -> str:
    best = result["top_k"][0]
    label = f" {best['label']}" if best.get("label") else ""
    return f"top-1 {best['class']}{label} {best['score']:.4f}"


def authorized(request: Request, api_key: Optional[str]) -> bool:
    if not api_key:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), api_key.encode())


def parse_top_k(raw: Optional[str], num_classes: Optional[int]) -> Optional[int]:
    """The ``top_k`` query value (``None`` when absent) or ``UploadError(422)`` naming the allowed range."""
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    high = num_classes or float("inf")
    if not 1 <= value <= high:
        allowed = f"from 1 to {num_classes}" if num_classes else "of at least 1"
        raise UploadError(422, f"top_k must be an integer {allowed}, got {raw!r}")
    return value


def create_app(predictors, settings: ServeSettings) -> FastAPI:
    """The service around ``predictors`` (objects with the ``paddlevideo.Predictor`` API; each one is used
    by one thread at a time). The caller owns ``settings.upload_folder`` and removes it at exit."""
    info = dict(predictors[0].info)
    jobs = InferenceQueue(list(predictors), settings.max_queue)
    with open(INDEX_HTML, encoding="utf-8") as f:
        index_page = f.read()
    app = FastAPI(title="PaddleVideo TSN", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.jobs = jobs

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        ms = (time.perf_counter() - start) * 1000
        outcome = getattr(request.state, "outcome", "-")
        client = request.client.host if request.client else "-"
        logger.info(f'{client} "{request.method} {request.url.path}" {response.status_code} {ms:.0f} ms {outcome}')
        return response

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return HTMLResponse(index_page)

    @app.get("/health")
    async def health():
        keys = ("model_name", "num_classes", "precision", "views_per_video", "top_k")
        return {"status": "ok", **{k: info.get(k) for k in keys}, **jobs.status()}

    @app.post("/predict")
    async def predict(request: Request):
        if not authorized(request, settings.api_key):
            request.state.outcome = "no or wrong API key"
            return error(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
                         headers={"WWW-Authenticate": "Bearer"})
        try:
            check_declared_size(request.headers.get("content-length"), settings.max_upload_bytes)
            top_k = parse_top_k(request.query_params.get("top_k"), info.get("num_classes"))
        except UploadError as err:
            request.state.outcome = str(err)
            return error(err.status, err)
        ticket = jobs.try_admit()
        if ticket is None:
            status = jobs.status()
            wait = jobs.retry_after()
            request.state.outcome = "queue full"
            return error(503, f"queue full: {status['in_flight']} running and {status['queue_depth']} waiting "
                              f"(--max_queue {settings.max_queue}); retry after {wait} s",
                         headers={"Retry-After": str(wait)})
        stored = []

        def cleanup():
            for path in stored:
                remove_file(path)
        try:
            return await asyncio.wait_for(run_one(request, ticket, stored.append, cleanup, top_k),
                                          settings.timeout_s)
        except asyncio.TimeoutError:
            request.state.outcome = "timeout"
            return error(504, f"no result within {settings.timeout_s:g} s (--timeout)")
        finally:
            ticket.close(cleanup)  # a submitted ticket cleans up when its work ends

    async def run_one(request, ticket, on_created, cleanup, top_k):
        try:
            upload = await receive_upload(request, settings.upload_folder, settings.max_upload_bytes, on_created)
        except UploadError as err:
            request.state.outcome = str(err)
            return error(err.status, err)
        if upload.size == 0:
            request.state.outcome = "empty upload"
            return error(422, f"upload '{upload.name}' is empty (0 bytes): expected a video file")

        def work(predictor):
            return predictor.predict(upload.path, top_k=top_k)
        try:
            result = await asyncio.wrap_future(ticket.submit(work, cleanup))
        except UserError as err:
            text = str(err).replace(upload.path, upload.name).replace(os.path.basename(upload.path), upload.name)
            message = " ".join(f"upload '{upload.name}': {text}".split())
            request.state.outcome = f"rejected: {message}"
            return error(422, message)
        except Exception:  # a bug, not the client's input: keep its traceback in the server log
            logger.exception(f"predicting upload '{upload.name}' failed")
            request.state.outcome = "internal error"
            return error(500, f"internal error while predicting '{upload.name}'; see the server log")
        result = dict(result, file=upload.name)
        request.state.outcome = top1_text(result)
        return JSONResponse(result)

    return app
