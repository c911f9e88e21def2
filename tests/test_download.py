"""Weights by URL (utils.download, through save_load.load): against a real HTTP server on 127.0.0.1 started
by the tests, which counts its requests. Success, cache hit without a request, 404, a cut connection, a
refused connection, and the restricted unpickler on downloaded bytes."""
import http.server
import io
import os
import pickle
import stat
import threading

import pytest

from paddlevideo.utils.download import DownloadError, cache_path, fetch_weights, weights_cache_dir


class WeightsServer(http.server.ThreadingHTTPServer):
    """Serves ``files`` (path -> bytes); ``cut`` paths announce more bytes than they send; counts requests."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files, self.cut, self.requests = {}, set(), {}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 10  # a stuck client cannot hold a server thread

    def do_GET(self):
        server = self.server
        server.requests[self.path] = server.requests.get(self.path, 0) + 1
        body = server.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) + (1000 if self.path in server.cut else 0)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True  # a cut path ends here, 1000 bytes short

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = WeightsServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """A private weights cache, and no proxy between the client and the loopback server."""
    monkeypatch.setenv("PADDLEVIDEO_HOME", str(tmp_path / "home"))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return tmp_path / "home" / "weights"


def checkpoint_bytes(**arrays) -> bytes:
    import numpy as np
    import paddle
    buffer = io.BytesIO()
    paddle.save({k: paddle.to_tensor(np.asarray(v, dtype="float32")) for k, v in arrays.items()}, buffer)
    return buffer.getvalue()


def cache_files(cache) -> list:
    """Every file and folder under the cache, hidden ones included (a left-over .part would show)."""
    if not cache.exists():
        return []
    return sorted(os.path.relpath(os.path.join(root, n), cache) for root, dirs, files in os.walk(cache)
                  for n in dirs + files)


def test_a_url_is_downloaded_once_and_loaded_from_the_cache(server, cache):
    from paddlevideo.utils.save_load import load
    body = checkpoint_bytes(**{"head.fc.weight": [[1.0, 2.0], [3.0, 4.0]]})
    server.files["/weights/TSN_k400.pdparams"] = body
    url = server.url + "/weights/TSN_k400.pdparams"
    old_umask = os.umask(0o022)
    try:
        state = load(url)
    finally:
        os.umask(old_umask)
    assert state["head.fc.weight"].numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    local = cache_path(url)
    assert local.startswith(str(cache)) and os.path.basename(local) == "TSN_k400.pdparams"
    assert open(local, "rb").read() == body and stat.S_IMODE(os.stat(local).st_mode) == 0o644
    assert cache_files(cache) == [os.path.basename(os.path.dirname(local)),
                                  os.path.relpath(local, cache)]  # no temporary file left
    assert server.requests == {"/weights/TSN_k400.pdparams": 1}
    again = load(url)  # a second run: from the cache, no request
    assert again["head.fc.weight"].numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert fetch_weights(url) == local
    assert server.requests == {"/weights/TSN_k400.pdparams": 1}


def test_a_missing_file_is_one_line_with_the_status(server, cache):
    from paddlevideo.utils.errors import error_line
    from paddlevideo.utils.save_load import load
    url = server.url + "/weights/nope.pdparams"
    with pytest.raises(DownloadError) as info:
        load(url)
    assert error_line("main.py", info.value) == f"main.py: error: cannot download {url}: HTTP 404 Not Found"
    assert not [f for f in cache_files(cache) if os.path.isfile(cache / f)]
    assert server.requests == {"/weights/nope.pdparams": 1}


def test_a_connection_cut_mid_file_leaves_nothing_in_the_cache(server, cache):
    body = checkpoint_bytes(w=[0.5] * 4096)
    server.files["/cut.pdparams"] = body
    server.cut.add("/cut.pdparams")
    url = server.url + "/cut.pdparams"
    with pytest.raises(DownloadError, match=rf"^cannot download {url}: the connection closed after "
                                            rf"{len(body)} of {len(body) + 1000} bytes$"):
        fetch_weights(url)
    assert not [f for f in cache_files(cache) if os.path.isfile(cache / f)]  # no partial file, no .part
    server.cut.clear()
    assert open(fetch_weights(url), "rb").read() == body  # the next run downloads it whole
    assert server.requests == {"/cut.pdparams": 2}


def test_a_network_error_is_one_line_naming_the_url(server, cache):
    port = server.server_address[1]
    server.shutdown()
    server.server_close()  # nothing listens on the port now
    url = f"http://127.0.0.1:{port}/w.pdparams"
    with pytest.raises(DownloadError, match=rf"^cannot download {url}: .*Connection refused"):
        fetch_weights(url)
    assert not [f for f in cache_files(cache) if os.path.isfile(cache / f)]


def test_downloaded_bytes_go_through_the_restricted_unpickler(server, cache, tmp_path):
    from paddlevideo.utils.save_load import CheckpointError, load
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    server.files["/evil.pdparams"] = pickle.dumps({"w": Evil()}, protocol=2)
    with pytest.raises(CheckpointError, match="refused: it asks to load"):
        load(server.url + "/evil.pdparams")
    assert not marker.exists()


def test_no_progress_bar_off_a_terminal(server, cache, capsys):
    server.files["/w.pdparams"] = checkpoint_bytes(w=[1.0] * 300000)
    fetch_weights(server.url + "/w.pdparams")
    captured = capsys.readouterr()
    assert "%|" not in captured.err and "\r" not in captured.err


def test_local_paths_pass_through_and_the_cache_follows_the_environment(tmp_path):
    assert fetch_weights("output/TSN/TSN_best.pdparams") == "output/TSN/TSN_best.pdparams"
    assert weights_cache_dir({"PADDLEVIDEO_HOME": "/srv/pv"}) == os.path.join("/srv/pv", "weights")
    assert weights_cache_dir({"XDG_CACHE_HOME": "/c"}) == os.path.join("/c", "paddlevideo", "weights")
    assert weights_cache_dir({}) == os.path.join(os.path.expanduser("~"), ".cache", "paddlevideo", "weights")
    a = cache_path("https://a.example/x/TSN_k400.pdparams", {"PADDLEVIDEO_HOME": "/h"})
    b = cache_path("https://b.example/y/TSN_k400.pdparams", {"PADDLEVIDEO_HOME": "/h"})
    assert a != b and os.path.basename(a) == os.path.basename(b) == "TSN_k400.pdparams"


@pytest.mark.slow  # a real export
def test_export_takes_weights_by_url(server, cache, tmp_path, capsys):
    from conftest import DEMO_CFG, SMALL, load_tool, make_checkpoint
    make_checkpoint(tmp_path / "small.pdparams")
    server.files["/TSN_demo.pdparams"] = (tmp_path / "small.pdparams").read_bytes()
    tool = load_tool("tools/export_model.py", "export_model_by_url")
    common = ["-c", DEMO_CFG, "--override", *SMALL, "-o", str(tmp_path / "inference")]
    code = tool.main(common + ["-p", server.url + "/missing.pdparams"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == (f"export_model.py: error: cannot download {server.url}/missing.pdparams: "
                                         "HTTP 404 Not Found")
    assert tool.main(common + ["-p", server.url + "/TSN_demo.pdparams"]) == 0
    assert (tmp_path / "inference" / "TSN_demo.pdiparams").is_file()
    assert server.requests == {"/missing.pdparams": 1, "/TSN_demo.pdparams": 1}


@pytest.mark.slow  # builds and loads a ResNet-18
def test_main_weights_and_backbone_pretrained_take_urls(server, cache, tmp_path, capsys):
    """``main.py -w URL`` goes through the download (a 404 is its one line, before any work), and
    ``MODEL.backbone.pretrained: URL`` loads the downloaded backbone weights."""
    import numpy as np
    import paddle
    from conftest import DEMO_CFG, main_in_process
    from paddlevideo.modeling.backbones.resnet import ResNet
    proc = main_in_process("-c", DEMO_CFG, "--test", "-w", server.url + "/gone.pdparams", capsys=capsys)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"main.py: error: cannot download {server.url}/gone.pdparams: HTTP 404 Not Found")
    paddle.seed(3)
    source = ResNet(depth=18)
    source.init_weights()
    path = tmp_path / "backbone.pdparams"
    paddle.save(source.state_dict(), str(path))
    server.files["/ResNet18_pretrain.pdparams"] = path.read_bytes()
    paddle.seed(4)
    target = ResNet(depth=18, pretrained=server.url + "/ResNet18_pretrain.pdparams")
    target.init_weights()
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name].numpy(), value.numpy(), err_msg=name)
    assert server.requests["/ResNet18_pretrain.pdparams"] == 1
