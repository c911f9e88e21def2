"""deploy/python_serving/serve.py: a real server process on 127.0.0.1 and real HTTP.

End-to-end tests serve a small exported TSN (ResNet-18, 64x64, 4 classes; one export and one server for
the module) through ``paddlevideo.Predictor``. The limit tests (queue, key, timeout, SIGTERM) serve a fake
predictor that holds a video until the test creates a "release" file, so "a request is in flight" is a
state the test waits for, not a timing guess. Run as a script, this module is that fake server.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import REAL_CLIP, ROOT, load_tool, make_checkpoint, shared_file, small_config

pytestmark = pytest.mark.slow
for _module in ("fastapi", "uvicorn", "python_multipart", "httpx"):
    pytest.importorskip(_module, reason="serving tests need pip install -e .[serve] and httpx (requirements-dev.txt)")
SERVE = os.path.join(ROOT, "deploy", "python_serving", "serve.py")
STARTED = re.compile(r"serving \S+ .* on http://([\d.]+):(\d+)/ ; uploads up to \S+ MB in (.+?); queue ")
LABELS = ["zero", "one", "two", "three"]
DEADLINE = 60  # seconds: every wait below ends with a failure, never hangs


def wait_until(condition, what, deadline=DEADLINE):
    """Poll ``condition()`` until it returns a true value (returned); fail naming ``what`` after ``deadline``."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out after {deadline} s waiting for {what}")


class Server:
    """A ``serve.py`` process (or the fake one) with its log in a file; ``url``, ``folder`` (private uploads)."""

    def __init__(self, argv, log_path, env=None):
        self.log_path = log_path
        self.log_file = open(log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(argv, stdout=self.log_file, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=dict(os.environ, **(env or {})))
        match = wait_until(self._started, f"the server to start (log: {log_path})")
        self.url = f"http://{match.group(1)}:{match.group(2)}"
        self.port = int(match.group(2))
        self.folder = match.group(3)

    def _started(self):
        if self.proc.poll() is not None:
            pytest.fail(f"server exited with {self.proc.returncode}: {self.log()[-2000:]}")
        return STARTED.search(self.log())

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8") as f:
            return f.read()

    def health(self) -> dict:
        import httpx
        return httpx.get(self.url + "/health", timeout=10).json()

    def post(self, data: bytes, name="clip.mp4", params=None, headers=None, timeout=60):
        import httpx
        return httpx.post(self.url + "/predict", files={"file": (name, data)}, params=params, headers=headers,
                          timeout=timeout)

    def stop(self, timeout=60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.log_file.close()
        return code


def start_serve(tmp, *flags, env=None) -> Server:
    return Server([sys.executable, SERVE, "--port", "0", "--upload_dir", str(tmp), *flags], str(tmp / "serve.log"),
                  env=env)


def one_line_error(response, status) -> str:
    assert response.status_code == status, response.text
    assert "\n" not in response.text
    return response.json()["error"]


# ---------------------------------------------------------------- the real model
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A small TSN exported once, its label list, and one serve.py process on it (1 MB upload limit)."""
    from paddlevideo.inference.export import export_model
    tmp = tmp_path_factory.mktemp("serve")
    make_checkpoint(tmp / "small.pdparams", seed=3)
    export_model(small_config(), str(tmp / "small.pdparams"), str(tmp / "inf"), "small")
    labels = tmp / "labels.txt"
    labels.write_text("".join(f"{i} {name}\n" for i, name in enumerate(LABELS)))
    server = start_serve(tmp, "--model_dir", str(tmp / "inf"), "--label_list", str(labels), "--max_upload_mb", "1")
    yield {"server": server, "tmp": tmp, "model_dir": tmp / "inf", "labels": labels}
    assert server.stop() == 0
    assert not os.path.exists(server.folder)  # the private upload folder goes with the process


def test_health_describes_the_model(served):
    health = served["server"].health()
    assert health == {"status": "ok", "model_name": "TSN_demo", "num_classes": 4, "precision": "fp32",
                      "views_per_video": 30, "top_k": 1, "queue_depth": 0, "in_flight": 0, "max_queue": 4,
                      "workers": 1}


def test_result_equals_predict_py_on_the_same_file(served, capsys):
    server = served["server"]
    with open(REAL_CLIP, "rb") as f:
        response = server.post(f.read(), name="bunny.mp4", params={"top_k": 3})
    assert response.status_code == 200, response.text
    out_json = served["tmp"] / "predict.json"
    predict = load_tool("tools/predict.py", "tool_predict")
    argv = ["-i", REAL_CLIP, "--model_file", str(served["model_dir"] / "small.pdmodel"),
            "--params_file", str(served["model_dir"] / "small.pdiparams"), "--label_list", str(served["labels"]),
            "--top_k", "3", "--output_json", str(out_json)]
    assert predict.main(argv) == 0
    expected, = json.loads(out_json.read_text())["results"]
    got = response.json()
    assert got["file"] == "bunny.mp4"  # the client's name: the server's own paths stay private
    assert [e["class"] for e in got["top_k"]] == [e["class"] for e in expected["top_k"]]
    assert [e["label"] for e in got["top_k"]] == [e["label"] for e in expected["top_k"]]
    assert got["top_k"][0]["label"] in LABELS
    for ours, theirs in zip(got["top_k"], expected["top_k"]):
        assert abs(ours["score"] - theirs["score"]) <= 1e-6
    assert set(got) == set(expected)


def test_bad_uploads_get_one_line_errors_and_the_service_keeps_serving(served):
    server = served["server"]
    message = one_line_error(server.post(b"this is not a video", name="notes.avi"), 422)
    assert message.startswith("upload 'notes.avi': ") and server.folder not in message
    assert "empty" in one_line_error(server.post(b"", name="empty.mp4"), 422)
    assert "1 MB (--max_upload_mb)" in one_line_error(server.post(b"\0" * (1_300_000), name="big.mp4"), 413)
    assert "top_k" in one_line_error(server.post(b"x", params={"top_k": 5}), 422)  # 4 classes
    import httpx
    no_form = httpx.post(server.url + "/predict", content=b"raw bytes", timeout=10)
    assert "multipart/form-data" in one_line_error(no_form, 422)
    with open(REAL_CLIP, "rb") as f:
        assert server.post(f.read()).status_code == 200  # still serving


def test_upload_without_length_is_cut_at_the_limit(served):
    """A chunked body (no Content-Length) is counted while it streams: 413 without storing it whole."""
    import httpx
    boundary = "pvtestboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n"
            f"Content-Type: video/mp4\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(20):  # 20 x 64 KB = 1.25 MB > 1 MB
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()
    response = httpx.post(served["server"].url + "/predict", content=body(), timeout=30,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert "--max_upload_mb" in one_line_error(response, 413)


def test_one_log_line_per_request_and_no_upload_left(served):
    server = served["server"]
    before = len(server.log().splitlines())
    with open(REAL_CLIP, "rb") as f:
        assert server.post(f.read(), name="a.mp4").status_code == 200
    assert server.post(b"junk", name="b.avi").status_code == 422
    lines = server.log().splitlines()[before:]
    access = [line for line in lines if '"POST /predict"' in line]
    assert len(access) == 2, lines
    assert re.search(r'"POST /predict" 200 \d+ ms top-1 \d (zero|one|two|three) [01]\.\d{4}$', access[0])
    assert re.search(r'"POST /predict" 422 \d+ ms rejected: upload \'b.avi\': ', access[1])
    assert os.listdir(server.folder) == []  # every upload deleted after its request
    assert oct(os.stat(server.folder).st_mode & 0o777) == "0o700"


# ---------------------------------------------------------------- the page, in a real headless browser
class DevTools:
    """The Chrome DevTools Protocol over a page's websocket: ``call(method, **params)``, ``evaluate(js)``."""

    def __init__(self, ws):
        self.ws = ws
        self.last_id = 0

    def call(self, method, **params):
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=DEADLINE))
            if message.get("id") == self.last_id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")


# Resolves once the page shows results or an error (a MutationObserver: no polling, no fixed wait).
PAGE_OUTCOME = """new Promise((resolve) => {
  const read = () => {
    const items = [...document.querySelectorAll('#results li')].map((li) => li.textContent);
    const error = document.getElementById('error').textContent;
    if (items.length || error) { resolve({items, error}); return true; }
    return false;
  };
  if (!read()) new MutationObserver(read).observe(document.body, {subtree: true, childList: true,
                                                                   characterData: true});
})"""


def test_page_uploads_a_video_and_shows_the_top1_label(served, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed (apt-get install chromium): the page test needs a real browser")
    pytest.importorskip("websockets", reason="pip install websockets (requirements-dev.txt) to drive chromium")
    import httpx
    video = shared_file("example.avi")
    server = served["server"]
    with open(video, "rb") as f:
        expected = server.post(f.read(), name="example.avi").json()["top_k"][0]["label"]
    profile = tmp_path / "chromium-profile"
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}", "--remote-debugging-port=0",
         server.url + "/"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        port = wait_until(lambda: port_file.is_file() and port_file.read_text().split("\n")[0], "chromium's port")
        pages = wait_until(lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
                                    if t["type"] == "page" and t["url"].startswith(server.url)], "the page")
        from websockets.sync.client import connect
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as ws:
            page = DevTools(ws)
            loaded = "document.readyState === 'complete' && document.getElementById('video') !== null"
            wait_until(lambda: page.evaluate(loaded), "the page to load")  # not the about:blank before it
            picker = page.call("Runtime.evaluate", expression="document.getElementById('video')")["result"]
            page.call("DOM.setFileInputFiles", objectId=picker["objectId"], files=[video])
            page.evaluate("document.getElementById('send').click()")
            outcome = page.evaluate(PAGE_OUTCOME)
    finally:
        browser.terminate()
        browser.wait(30)
    assert outcome["error"] == "" and len(outcome["items"]) == 4  # top-5 of a 4-class model: all 4
    assert outcome["items"][0].startswith(expected + " (")


# ---------------------------------------------------------------- limits, with a fake predictor
class FakePredictor:
    """The ``Predictor`` API without a model: content ``hold`` waits for ``$FAKE_RELEASE`` to exist, ``boom``
    is a bug (500), ``bad`` is not a video (422); anything else is class 1."""
    info = {"model_name": "Fake", "num_classes": 3, "precision": "fp32", "views_per_video": 1, "top_k": 1,
            "input_shape": [None, 1, 3, 8, 8], "labels": True}

    def predict(self, path, top_k=None):
        from paddlevideo.utils.errors import UserError
        with open(path, "rb") as f:
            content = f.read()
        if content.startswith(b"hold"):
            release = os.environ["FAKE_RELEASE"]
            end = time.monotonic() + DEADLINE
            while not os.path.exists(release) and time.monotonic() < end:
                time.sleep(0.01)
        if content == b"boom":
            raise RuntimeError("a bug")
        if content == b"bad":
            raise UserError(f"{path}: not a video")
        return {"file": path, "top_k": [{"class": 1, "score": 0.9, "label": "one"}][:top_k or 1]}


def start_fake(tmp, *flags, env=None) -> Server:
    env = dict(env or {}, FAKE_RELEASE=str(tmp / "release"))
    return Server([sys.executable, os.path.abspath(__file__), "--port", "0", "--upload_dir", str(tmp),
                   "--model_dir", str(tmp), *flags], str(tmp / "fake.log"), env=env)


def post_in_background(server, data, results, name="held.mp4"):
    thread = threading.Thread(target=lambda: results.append(server.post(data, name=name)), daemon=True)
    thread.start()
    return thread


def test_full_queue_answers_503_with_retry_after(tmp_path):
    server = start_fake(tmp_path, "--max_queue", "1")
    try:
        first, second = [], []
        threads = [post_in_background(server, b"hold", first)]
        wait_until(lambda: server.health()["in_flight"] == 1, "the first request to run")
        threads.append(post_in_background(server, b"plain", second))
        wait_until(lambda: server.health()["queue_depth"] == 1, "the second request to wait")
        refused = server.post(b"plain", name="third.mp4")
        assert "queue full" in one_line_error(refused, 503)
        assert int(refused.headers["Retry-After"]) >= 1
        (tmp_path / "release").touch()
        for thread in threads:
            thread.join(DEADLINE)
        assert first[0].status_code == 200 and second[0].status_code == 200
        assert first[0].json()["file"] == "held.mp4"
        assert os.listdir(server.folder) == []
        assert re.search(r'"POST /predict" 503 \d+ ms queue full', server.log())
    finally:
        assert server.stop() == 0


def test_api_key_from_the_flag_or_the_environment(tmp_path):
    for flags, env in ((["--api_key", "s3cret"], {}), ([], {"PADDLEVIDEO_API_KEY": "s3cret"})):
        server = start_fake(tmp_path, *flags, env=env)
        try:
            missing = server.post(b"plain")
            assert "API key" in one_line_error(missing, 401) and missing.headers["WWW-Authenticate"] == "Bearer"
            one_line_error(server.post(b"plain", headers={"Authorization": "Bearer wrong"}), 401)
            assert server.post(b"plain", headers={"Authorization": "Bearer s3cret"}).status_code == 200
            assert server.health()["status"] == "ok"  # load balancers check health without credentials
            assert "API key required" in server.log()
        finally:
            assert server.stop() == 0


def test_sigterm_finishes_the_request_in_flight_then_exits_0(tmp_path):
    server = start_fake(tmp_path)
    results = []
    thread = post_in_background(server, b"hold", results)
    wait_until(lambda: server.health()["in_flight"] == 1, "the request to run")
    server.proc.send_signal(signal.SIGTERM)

    def refused():
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
            return False
        except ConnectionRefusedError:
            return True
    wait_until(refused, "the server to stop accepting connections")
    assert server.proc.poll() is None  # still running: the request is in flight
    (tmp_path / "release").touch()
    thread.join(DEADLINE)
    assert results[0].status_code == 200 and results[0].json()["top_k"][0]["class"] == 1
    assert server.stop() == 0
    assert "SIGTERM: no new connections; finishing 1 running and 0 waiting requests" in server.log()
    assert not os.path.exists(server.folder)


def test_timeout_answers_504_and_the_upload_goes_when_the_work_ends(tmp_path):
    server = start_fake(tmp_path, "--timeout", "0.5")
    try:
        assert "0.5 s (--timeout)" in one_line_error(server.post(b"hold"), 504)
        assert server.health()["in_flight"] == 1  # the predictor is still busy: the queue says so
        (tmp_path / "release").touch()
        wait_until(lambda: server.health()["in_flight"] == 0 == server.health()["queue_depth"], "the work to end")
        assert os.listdir(server.folder) == []
        assert server.post(b"plain").status_code == 200
    finally:
        assert server.stop() == 0


def test_a_bug_is_a_500_with_one_line_and_the_service_keeps_serving(tmp_path):
    server = start_fake(tmp_path)
    try:
        assert "see the server log" in one_line_error(server.post(b"boom", name="x.mp4"), 500)
        assert "RuntimeError: a bug" in server.log()  # the traceback is in the server log
        message = one_line_error(server.post(b"bad", name="y.mp4"), 422)
        assert message == "upload 'y.mp4': y.mp4: not a video"  # the stored path never reaches the client
        assert server.post(b"plain", name="../../etc/passwd.txt").json()["file"] == "passwd.txt"
        assert os.listdir(server.folder) == []
    finally:
        assert server.stop() == 0


def test_a_client_gone_mid_upload_leaves_no_file(tmp_path):
    server = start_fake(tmp_path)
    try:
        head = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="cut.mp4"\r\n\r\n' + b"\0" * 70000)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                         b"Content-Length: 1000000\r\n\r\n" + head)
            wait_until(lambda: os.listdir(server.folder), "the upload to be stored")
        wait_until(lambda: os.listdir(server.folder) == [], "the partial upload to be deleted")
        assert server.health()["queue_depth"] == 0  # its place is free again
        gone = r'"POST /predict" 400 \d+ ms the client closed the connection during the upload'
        wait_until(lambda: re.search(gone, server.log()), "the access line of the cut upload")
        assert server.post(b"plain").status_code == 200
    finally:
        assert server.stop() == 0


def test_bad_flags_are_one_line_before_anything_starts(tmp_path, capsys):
    serve = load_tool("deploy/python_serving/serve.py", "serve_tool")
    busy = socket.create_server(("127.0.0.1", 0))  # a port another process listens on
    for argv, expected in ((["--max_queue", "-1"], "--max_queue must be 0 or more, got -1"),
                           (["--timeout", "0"], "--timeout must be positive, got 0.0"),
                           (["--model_dir", str(tmp_path / "missing")], "no such folder"),
                           (["--port", str(busy.getsockname()[1])], "cannot listen on 127.0.0.1:")):
        argv = ["--model_dir", str(tmp_path), *argv] if argv[0] != "--model_dir" else argv
        assert serve.main(argv, predictor_factory=lambda args: [FakePredictor()]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("serve.py: error: ") and expected in err and "\n" not in err
    busy.close()


if __name__ == "__main__":  # the fake server of the limit tests
    sys.exit(load_tool("deploy/python_serving/serve.py", "serve_tool").main(
        predictor_factory=lambda args: [FakePredictor() for _ in range(args.pool_size)]))
