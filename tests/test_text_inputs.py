"""Text inputs users write: a UTF-8 BOM is dropped, a non-UTF-8 byte is one error naming file and line."""
import codecs
import os

import pytest

from paddlevideo.loader.dataset import VideoDataset
from paddlevideo.loader.pipelines.compose import Compose
from paddlevideo.utils.errors import UserError
from paddlevideo.utils.text_files import TextEncodingError

from conftest import write_video
from test_data_tools import load_script


def test_bom_is_dropped_so_the_first_clip_keeps_its_name(tmp_path):
    lst = tmp_path / "train.list"
    lst.write_bytes(codecs.BOM_UTF8 + "clips/a.mp4 3\nclips/b.mp4 1\n".encode())
    ds = VideoDataset(str(lst), Compose([]), data_prefix="/data")
    assert ds.info[0]["filename"] == os.path.join("/data", "clips/a.mp4") and ds.info[0]["labels"] == 3


def test_non_utf8_byte_names_file_and_line(tmp_path):
    lst = tmp_path / "val.list"
    lst.write_bytes("ok/a.mp4 0\nok/b.mp4 1\n".encode() + b"caf\xe9/c.mp4 2\n")  # Latin-1 e-acute
    with pytest.raises(TextEncodingError, match=r"val.list:3: byte 0xe9 is not UTF-8") as info:
        VideoDataset(str(lst), Compose([]))
    assert isinstance(info.value, UserError)


def test_label_list_encoding_error_is_one_line(tmp_path, capsys):
    build = load_script("build_file_list")
    (tmp_path / "videos" / "cls").mkdir(parents=True)
    write_video(str(tmp_path / "videos" / "cls" / "v.avi"), num_frames=3, size=(32, 24))
    labels = tmp_path / "labels.txt"
    labels.write_bytes(b"0 cls\n1 \xff\xfe\n")
    assert build.main([str(tmp_path / "videos"), "--format", "videos", "--out", str(tmp_path / "x.list"),
                       "--label_list", str(labels)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "labels.txt:2: byte 0xff is not UTF-8" in err[0]


def test_an_unreadable_text_input_is_one_user_error_naming_it(tmp_path):
    """The shared reader turns file-system errors into one line (a folder where a list or .yml should be),
    still an OSError for callers that handle those themselves."""
    from paddlevideo.utils.errors import UserError
    from paddlevideo.utils.text_files import read_lines
    folder = tmp_path / "train.list"
    folder.mkdir()
    for path in (folder, tmp_path / "missing.list"):
        with pytest.raises(UserError) as raised:
            read_lines(str(path))
        assert isinstance(raised.value, OSError) and str(raised.value).startswith(f"cannot read {path}: ")
