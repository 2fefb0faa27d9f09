"""validate_fit on crafted bytes: each kind of broken framing gives its one-line error."""

from __future__ import annotations

import os
import struct

import pytest

from sources.fit.model import BrokenFitFile
from sources.fit.validate import _crc_loop, fit_crc, validate_fit
from tests.sources.fit.fit_builders import build_fit, with_14_byte_header


@pytest.fixture(scope="module")
def good() -> bytes:
    return build_fit()


def _error(data: bytes) -> str:
    with pytest.raises(BrokenFitFile) as info:
        validate_fit(data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_good_file_is_one_chunk(good: bytes) -> None:
    (chunk,) = validate_fit(good)
    assert chunk.index == 0 and chunk.offset == 0 and chunk.end == len(good)
    assert chunk.header_size in (12, 14)
    assert chunk.header_size + chunk.data_size + 2 == len(good)


def test_crc_check_value() -> None:
    # CRC-16/ARC check value of "123456789" is 0xBB3D (the FIT SDK's CRC is CRC-16/ARC)
    assert fit_crc(b"123456789") == 0xBB3D


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 65_536, 300_001, 2_400_000])
def test_vectorised_crc_equals_table_loop(size: int) -> None:
    data = os.urandom(size)
    assert fit_crc(data) == _crc_loop(data)


def test_crc_over_data_and_stored_crc_is_zero(good: bytes) -> None:
    assert fit_crc(good) == 0


def test_empty() -> None:
    assert _error(b"") == "empty file (0 bytes)"


def test_shorter_than_a_header() -> None:
    assert "shorter than a FIT header" in _error(b"\x0e\x10\x00")


def test_text_file_has_no_signature() -> None:
    assert _error(b"This is a non-valid FIT file") == "not a FIT file: no '.FIT' signature at byte 8"


def test_bad_signature(good: bytes) -> None:
    assert _error(good[:8] + b".FTI" + good[12:]) == "not a FIT file: no '.FIT' signature at byte 8"


def test_bad_header_size(good: bytes) -> None:
    assert "header size 13" in _error(b"\x0d" + good[1:])


def test_14_byte_header_with_crc(good: bytes) -> None:
    (chunk,) = validate_fit(with_14_byte_header(good))
    assert chunk.header_size == 14 and chunk.end == len(good) + 2


def test_header_crc_mismatch(good: bytes) -> None:
    right = _crc_loop(bytes([14]) + good[1:12])
    bad = with_14_byte_header(good, header_crc=right ^ 0x0101)
    assert _error(bad) == (
        f"header CRC mismatch in FIT file 1 (stored 0x{right ^ 0x0101:04X}, computed 0x{right:04X})"
    )


def test_zero_header_crc_is_accepted(good: bytes) -> None:
    assert len(validate_fit(with_14_byte_header(good, header_crc=0))) == 1


def test_truncated(good: bytes) -> None:
    cut = good[: len(good) - 19]
    assert _error(cut) == f"truncated: FIT file 1 declares {len(good)} bytes, {len(cut)} present"


def test_file_crc_mismatch(good: bytes) -> None:
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    message = _error(bytes(flipped))
    stored = struct.unpack_from("<H", good, len(good) - 2)[0]
    assert message.startswith(f"file CRC mismatch in FIT file 1 (stored 0x{stored:04X}, computed 0x")


def test_chained_files(good: bytes) -> None:
    chunks = validate_fit(good + good + good)
    assert [c.index for c in chunks] == [0, 1, 2]
    assert [c.offset for c in chunks] == [0, len(good), 2 * len(good)]


def test_error_names_the_chained_file(good: bytes) -> None:
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    assert _error(good + bytes(flipped)).startswith("file CRC mismatch in FIT file 2 ")


def test_trailing_garbage_after_last_file(good: bytes) -> None:
    assert "(FIT file 2)" in _error(good + b"\x00" * 20)

