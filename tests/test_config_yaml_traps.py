"""YAML that bites: duplicate keys, alias cycles, alias bombs and non-UTF-8 bytes are one-line errors."""
import codecs

import pytest

from paddlevideo.utils.config import ConfigError, parse_config
from paddlevideo.utils.text_files import TextEncodingError


def _write(tmp_path, text_or_bytes):
    path = tmp_path / "cfg.yaml"
    if isinstance(text_or_bytes, bytes):
        path.write_bytes(text_or_bytes)
    else:
        path.write_text(text_or_bytes)
    return str(path)


def test_duplicate_key_names_the_key_and_both_lines(tmp_path):
    path = _write(tmp_path, "model_name: TSN\nepochs: 10\nlog_interval: 5\nepochs: 100\n")
    with pytest.raises(ConfigError, match=r"cfg.yaml: key 'epochs' appears twice in one mapping, at lines 2 and 4"):
        parse_config(path)


def test_merge_keys_still_override(tmp_path):
    path = _write(tmp_path, "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n")
    assert dict(parse_config(path)["child"]) == {"x": 1, "y": 3}


def test_alias_cycle_is_an_error_not_a_recursion(tmp_path):
    path = _write(tmp_path, "model_name: TSN\nloop: &a [1, *a]\n")
    with pytest.raises(ConfigError, match=r"alias to the anchor at line 2 refers to itself"):
        parse_config(path)


def test_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    text = "\n".join(lines) + "\n"
    assert len(text) < 1000  # about 800 bytes standing for 9**10 values
    with pytest.raises(ConfigError, match=r"aliases expand to more than 100000 values"):
        parse_config(_write(tmp_path, text))


def test_non_utf8_byte_and_bom(tmp_path):
    with pytest.raises(TextEncodingError, match=r"cfg.yaml:2: byte 0xe9 is not UTF-8"):
        parse_config(_write(tmp_path, b"model_name: TSN\nnote: caf\xe9\n"))
    assert parse_config(_write(tmp_path, codecs.BOM_UTF8 + b"model_name: TSN\n"))["model_name"] == "TSN"
