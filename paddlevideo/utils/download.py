"""Weights by URL: a checkpoint path may be an ``http(s)://`` URL, downloaded once into a local cache.

The cache is ``$PADDLEVIDEO_HOME/weights/`` when ``PADDLEVIDEO_HOME`` is set, else
``$XDG_CACHE_HOME/paddlevideo/weights/`` (``~/.cache/paddlevideo/weights/``). A download goes to a
temporary file beside its cache entry and is renamed into place only when every byte the server
announced has arrived, so the cache never holds a partial file and a file found there is used without
any request. The downloaded file is then read like any local checkpoint (``save_load.load``: the
restricted unpickler). Standard library only (``urllib``): proxies come from the usual
``http_proxy``/``https_proxy``/``no_proxy`` variables.
"""
import contextlib
import hashlib
import http.client
import logging
import os
import posixpath
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from .atomic import umask_mode
from .errors import UserError

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60  # per connect or read: a stalled server is an error, a slow one is not


class DownloadError(UserError, RuntimeError):
    """A URL could not be downloaded; the message names the URL and the HTTP status or network error."""


def is_url(path) -> bool:
    """True for an ``http://`` or ``https://`` URL (any case)."""
    return isinstance(path, str) and path.strip().lower().startswith(("http://", "https://"))


def weights_cache_dir(environ=None) -> str:
    """Where downloaded weights are kept (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get("PADDLEVIDEO_HOME"):
        return os.path.join(os.path.expanduser(env["PADDLEVIDEO_HOME"]), "weights")
    cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "paddlevideo", "weights")


def cache_path(url: str, environ=None) -> str:
    """``<cache>/<16 hex digits of the URL's sha256>/<file name of the URL>``: one entry per URL, named as
    the server names the file (two URLs ending in the same name never share an entry)."""
    name = urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(url).path))
    name = re.sub(r"[^\w.+-]", "_", name).lstrip(".") or "weights.pdparams"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return os.path.join(weights_cache_dir(environ), digest, name)


def fetch_weights(path_or_url: str) -> str:
    """A local path is returned as it is; a URL gives the path of its cached copy, downloaded first if
    the cache has none. Raises ``DownloadError`` (one line) when the download fails."""
    if not is_url(path_or_url):
        return path_or_url
    url = path_or_url.strip()
    target = cache_path(url)
    if os.path.isfile(target):
        return target
    logger.info(f"downloading {url} to {target}")
    download(url, target)
    return target


def _network_error(url: str, err: BaseException) -> DownloadError:
    if isinstance(err, urllib.error.HTTPError):
        return DownloadError(f"cannot download {url}: HTTP {err.code} {err.reason}")
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    text = " ".join(str(reason).split()) or type(reason).__name__
    return DownloadError(f"cannot download {url}: {text}")


def _copy_body(url: str, response, out, name: str) -> int:
    """Copy the response body to ``out`` with a progress bar on a terminal; returns the byte count."""
    from tqdm import tqdm
    announced = response.headers.get("Content-Length")
    total = int(announced) if announced and announced.isdigit() else None
    received = 0
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False,
              disable=None) as bar:  # None: tqdm shows it only on a terminal
        while True:
            try:
                chunk = response.read(CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as err:
                raise _network_error(url, err) from None
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    if total is not None and received != total:
        raise DownloadError(f"cannot download {url}: the connection closed after {received} of {total} bytes")
    return received


def download(url: str, target: str, timeout: float = TIMEOUT_SECONDS):
    """Download ``url`` to ``target`` through a temporary file beside it, renamed only when complete
    (mode as a plain ``open()`` gives under the umask). Nothing is left behind on any error or Ctrl-C."""
    folder = os.path.dirname(os.path.abspath(target))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".part", dir=folder)
    except OSError as err:
        raise DownloadError(f"cannot download {url}: cannot write the cache folder {folder}: "
                            f"{err.strerror or err}") from None
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "paddlevideo"})
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except (OSError, http.client.HTTPException, ValueError) as err:
            raise _network_error(url, err) from None
        with response, os.fdopen(fd, "wb") as out:
            fd = None
            _copy_body(url, response, out, os.path.basename(target))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, umask_mode())
        os.replace(tmp, target)
    except OSError as err:  # writing the temporary file: a full disk, a quota
        raise DownloadError(f"cannot download {url}: cannot write {tmp}: {err.strerror or err}") from None
    finally:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(tmp)
