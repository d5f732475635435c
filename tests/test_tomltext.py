from __future__ import annotations

from pathlib import Path

import pytest

from voice_agent.tomltext import TomlTextError, read_toml


def test_a_toml_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "good.toml"
    path.write_text('[asr]\nbeam_size = 2\nlanguages = ["en", "de"]\n')
    assert read_toml(path) == {"asr": {"beam_size": 2, "languages": ["en", "de"]}}


# each found by fuzzing the settings and policy files: none was a TOMLDecodeError
@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"[asr\n", "Expected ']' at the end of a table declaration (at line 1, column 5)"),
        (b'a = 1\nb = "\xff"\n', "not UTF-8 text (line 2: invalid start byte)"),
        (b"a = " + b"9" * 5000, "a number is too long: Exceeds the limit (4300 digits)"),
        (b"a = " + b"[" * 5000 + b"]" * 5000, "arrays or tables nested too deeply"),
        (b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000, "arrays or tables nested too deeply"),
    ],
)
def test_a_bad_file_is_one_error_saying_what_is_wrong(
    tmp_path: Path, raw: bytes, says: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(raw)
    with pytest.raises(TomlTextError) as error:
        read_toml(path)
    assert str(error.value).startswith(says)


def test_a_missing_file_is_left_to_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_toml(tmp_path / "missing.toml")
