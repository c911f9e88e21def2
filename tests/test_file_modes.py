"""Files the package writes are readable as a plain ``open()`` would leave them: the umask decides, not the
private 0600 of the temporary file they are written through (a server running as another user reads TSN.yml)."""
import os
import stat

import pytest

from paddlevideo.utils.atomic import atomic_write


@pytest.fixture
def umask():
    """Set the process umask for the test; restored afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda value: os.umask(value)
    os.umask(saved)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_follows_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    text, binary = tmp_path / "a.txt", tmp_path / "b.bin"
    with atomic_write(str(text)) as (f, _):
        f.write("x")
    with atomic_write(str(binary), "wb") as (f, _):
        f.write(b"x")
    assert (_mode(text), _mode(binary)) == (expected, expected)
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert _mode(plain) == expected  # the same as a plain open()


def test_writer_that_replaces_the_temp_file_by_name(tmp_path, umask):
    """Writers such as paddle.save write the temp path themselves; the final mode is still the umask's."""
    umask(0o022)
    target = tmp_path / "w.bin"
    with atomic_write(str(target), "wb") as (_, tmp):
        os.remove(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"data")
        os.close(fd)
    assert _mode(target) == 0o644 and target.read_bytes() == b"data"


def test_checkpoint_and_config_written_readable(tmp_path, umask):
    umask(0o022)
    from paddlevideo.utils.config import get_config, save_config
    from paddlevideo.utils.save_load import save
    from conftest import DEMO_CFG
    save({"w": __import__("numpy").zeros(3, "float32")}, str(tmp_path / "m.pdparams"))
    path = save_config(get_config(DEMO_CFG, show=False), str(tmp_path))
    assert _mode(tmp_path / "m.pdparams") == 0o644 and _mode(path) == 0o644
