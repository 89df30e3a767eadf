"""TCP segments (RFC 9293) and their options (RFC 7323, RFC 2018, unknown kinds kept)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.wire import (EOL, MSS, NOP, TCP, MalformedPacket, OptionsCutShort, Sack, SackPermitted, TCPFlags,
                            Timestamps, UnknownOption, WindowScale, internet_checksum, is_valid)
from minternet.wire.checksum import pseudo_header_sum
from minternet.wire.tcp import decode_options, encode_options, flags_str

from .strategies import (decodes_or_malformed, examples, fuzz_inputs, ipv4_addrs, options_after_round_trip,
                         tcp_option_one, tcp_options, tcp_segments)

SRC, DST = "192.0.2.1", "198.51.100.2"
_PSEUDO = (bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2]))


def raw_segment(options: bytes = b"", payload: bytes = b"", offset: int | None = None,
                flags: int = 0x18, checksum: int | None = None) -> bytes:
    """A segment assembled by hand, independently of TCP.encode, with a correct checksum."""
    if offset is None:
        offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", 40000, 80, 1000, 2000, offset << 4, flags, 65535, 0, 0) + options
    data = header + payload
    if checksum is None:
        checksum = internet_checksum(data, pseudo_header_sum(*_PSEUDO, 6, len(data)))
    return data[:16] + checksum.to_bytes(2, "big") + data[18:]


def malformed(data: bytes, reason: str) -> MalformedPacket:
    with pytest.raises(MalformedPacket) as exc:
        TCP.decode(data, SRC, DST)
    assert (exc.value.layer, exc.value.reason) == ("tcp", reason)
    return exc.value


# -- options, one kind at a time ---------------------------------------------------------------------
@pytest.mark.parametrize("option, wire", [
    (EOL(), "00"),
    (NOP(), "01"),
    (MSS(1460), "020405b4"),
    (WindowScale(7), "030307"),
    (SackPermitted(), "0402"),
    (Sack(((1, 2),)), "050a0000000100000002"),
    (Sack(((1, 2), (0xFFFFFFFF, 3))), "0512" "00000001" "00000002" "ffffffff" "00000003"),
    (Timestamps(0x01020304, 0xA0B0C0D0), "080a01020304a0b0c0d0"),
    (UnknownOption(34, bytes.fromhex("0011223344556677")), "220a0011223344556677"),  # TFO cookie
    (UnknownOption(30, b"\x00\x81"), "1e040081"),  # MPTCP MP_CAPABLE-ish
    (UnknownOption(253, b""), "fd02"),  # experimental, no data
])
def test_option_encoding(option: object, wire: str) -> None:
    assert option.encode() == bytes.fromhex(wire)  # type: ignore[attr-defined]
    decoded = decode_options(bytes.fromhex(wire))
    assert decoded[0] == option
    assert option.kind == bytes.fromhex(wire)[0]  # type: ignore[attr-defined]


def test_linux_syn_options() -> None:
    # What Linux puts in a SYN: MSS, SACK permitted, timestamps, NOP, window scale.
    raw = bytes.fromhex("020405b4" "0402" "080a" "0001e240" "00000000" "01" "030307")
    options = (MSS(1460), SackPermitted(), Timestamps(123456, 0), NOP(), WindowScale(7))
    assert decode_options(raw) == options
    assert encode_options(options) == raw


def test_unknown_options_are_kept_byte_for_byte() -> None:
    raw = bytes.fromhex("1e0c" "00813b5e9f3a29e4d7c5" "01" "01" "fe06" "f989" "aabb")  # MPTCP, NOPs, exp.
    options = decode_options(raw)
    assert options == (UnknownOption(30, bytes.fromhex("00813b5e9f3a29e4d7c5")), NOP(), NOP(),
                       UnknownOption(254, bytes.fromhex("f989aabb")))
    assert encode_options(options) == raw
    segment = raw_segment(raw, b"data")
    assert TCP.decode(segment, SRC, DST).encode(SRC, DST) == segment


def test_eol_ends_the_list_and_the_rest_is_padding() -> None:
    assert decode_options(bytes.fromhex("01 00 02 04")) == (NOP(), EOL())
    assert decode_options(bytes.fromhex("030307 00")) == (WindowScale(7), EOL())


def test_encode_pads_with_eol_bytes() -> None:
    assert encode_options((WindowScale(14),)) == bytes.fromhex("03030e00")
    assert encode_options((NOP(), NOP(), Timestamps(1, 2))) == bytes.fromhex("0101080a0000000100000002")
    assert encode_options(()) == b""


def test_aligned_timestamp_fast_path_agrees_with_the_general_parser() -> None:
    raw = bytes.fromhex("0101080a" "deadbeef" "01020304")
    fast = decode_options(raw)
    general = decode_options(raw + b"\x01\x01\x01\x01")  # 16 bytes: not the shortcut's layout
    assert fast == (NOP(), NOP(), Timestamps(0xDEADBEEF, 0x01020304)) == general[:3]
    assert decode_options(memoryview(raw)) == fast


def test_options_too_long_to_encode() -> None:
    with pytest.raises(ValueError):
        encode_options((Sack(((1, 2),) * 4), Timestamps(1, 2)))  # 34 + 10 bytes
    assert len(encode_options((Sack(((1, 2),) * 4), NOP(), NOP()))) == 36


# Bad options do not make the segment malformed: they are read as Linux's tcp_parse_options reads
# them. A known kind with the wrong length is skipped uninterpreted (kept as an UnknownOption)...
@pytest.mark.parametrize("raw, kind", [
    ("02 03 05 00", 2),  # MSS must be 4 bytes
    ("02 05 05 b4 00 00 00 00", 2),
    ("03 02 00 00", 3),  # window scale must be 3
    ("03 04 07 00", 3),
    ("04 03 00 00", 4),  # SACK permitted must be 2
    ("08 08 00 00 00 00 00 00", 8),  # timestamps must be 10
    ("08 0c 00 00 00 00 00 00 00 00 00 00", 8),
    ("05 02 00 00", 5),  # SACK without a block
    ("05 03 00 00", 5),
    ("05 0b 00000001 00000002 00 00 00 00 00 00", 5),  # SACK length not 2 + 8n
])
def test_known_option_with_a_wrong_length_is_kept_uninterpreted(raw: str, kind: int) -> None:
    data = bytes.fromhex(raw)
    options = decode_options(data)
    length = data[1]
    assert options[0] == UnknownOption(kind, data[2:length])
    assert data.startswith(b"".join(o.encode() for o in options))  # byte for byte, up to the EOL
    seg = TCP.decode(raw_segment(data + bytes(-len(data) % 4), b"hi"), SRC, DST)
    assert seg.payload == b"hi" and not any(type(o) in (MSS, WindowScale, SackPermitted, Timestamps, Sack)
                                            for o in seg.options)


# ...and one whose length byte is missing, below 2 or past the end stops the parsing: what came
# before it stands, the rest is kept as OptionsCutShort.
@pytest.mark.parametrize("raw, good", [
    ("01 01 01 02", 3),  # MSS with no room for a length byte
    ("01 01 01 63", 3),  # unknown kind, same
    ("63 00 00 00", 0),  # length below 2
    ("63 01 00 00", 0),
    ("63 08 00 00", 0),  # length past the end of the options
    ("05 0a 00000001 0000", 0),  # SACK cut short
    ("020405b4 0307 0700", 1),  # MSS, then a window scale of length 7 running out
])
def test_options_cut_short_keep_what_came_before(raw: str, good: int) -> None:
    data = bytes.fromhex(raw)
    options = decode_options(data)
    assert len(options) == good + 1
    cut = options[-1]
    assert isinstance(cut, OptionsCutShort) and b"".join(o.encode() for o in options) == data
    assert data.endswith(cut.data) and not any(isinstance(o, OptionsCutShort) for o in options[:-1])
    if len(data) % 4 == 0:  # and the same from a whole segment, which is not malformed
        seg = TCP.decode(raw_segment(data, b"data"), SRC, DST)
        assert seg.options == options and seg.payload == b"data"


def test_timestamps_before_a_bad_option_are_still_read() -> None:
    # Linux processes the segment with the options it could parse, e.g. its timestamp for PAWS.
    data = bytes.fromhex("0101080a 0000000a 00000014 63 00 0000")
    seg = TCP.decode(raw_segment(data, b"x"), SRC, DST)
    assert seg.option(Timestamps) == Timestamps(10, 20)
    assert seg.options[-1] == OptionsCutShort(bytes.fromhex("63000000"))


@examples(300)
@given(tcp_options)
def test_options_round_trip(options: tuple) -> None:
    raw = encode_options(options)
    assert len(raw) % 4 == 0 and len(raw) <= 40
    assert decode_options(raw) == options_after_round_trip(options)


@examples(300)
@given(st.one_of(st.binary(max_size=40), st.lists(tcp_option_one, max_size=6).map(
    lambda opts: b"".join(o.encode() for o in opts)).flatmap(
    lambda raw: st.integers(0, len(raw)).map(lambda cut: raw[:cut]))))
def test_decode_options_never_raises(raw: bytes) -> None:
    options = decode_options(raw)
    assert decode_options(memoryview(raw)) == options
    # What decoded encodes back to the same bytes, up to the EOL where decoding stopped.
    again = b"".join(o.encode() for o in options)  # type: ignore[attr-defined]
    assert raw[:len(again)] == again
    assert all(not isinstance(o, OptionsCutShort) for o in options[:-1])


# -- the segment ----------------------------------------------------------------------------------
def test_encode_matches_hand_assembly() -> None:
    seg = TCP(40000, 80, 1000, 2000, TCPFlags.PSH | TCPFlags.ACK, 65535, b"GET /", 0, (MSS(1460),))
    assert seg.encode(SRC, DST) == raw_segment(bytes.fromhex("020405b4"), b"GET /")


def test_decode_fields() -> None:
    data = raw_segment(bytes.fromhex("0101080a0000000a00000014"), b"hello", flags=0x18)
    seg = TCP.decode(data, SRC, DST)
    assert seg == TCP(40000, 80, 1000, 2000, 0x18, 65535, b"hello", 0,
                      (NOP(), NOP(), Timestamps(10, 20)), 0, int.from_bytes(data[16:18], "big"))
    assert seg.header_length == 32
    assert seg.option(Timestamps) == Timestamps(10, 20)
    assert seg.option(MSS) is None


def test_checksum_verifies_with_the_pseudo_header() -> None:
    data = TCP(1, 2, 3, 4, TCPFlags.SYN, 5, b"odd", options=(MSS(536),)).encode(SRC, DST)
    assert is_valid(data, pseudo_header_sum(*_PSEUDO, 6, len(data)))


def test_all_flag_bits_and_reserved_bits_round_trip() -> None:
    seg = TCP(1, 2, 0xFFFFFFFF, 0xFFFFFFFF, 0xFF, 0xFFFF, b"", 0xFFFF, (), reserved=0x0F)
    data = seg.encode(SRC, DST)
    assert data[12:14] == b"\x5f\xff"
    assert TCP.decode(data, SRC, DST) == seg._replace(checksum=int.from_bytes(data[16:18], "big"))


@pytest.mark.parametrize("size", [0, 1, 19])
def test_truncated(size: int) -> None:
    malformed(raw_segment()[:size], "truncated")


@pytest.mark.parametrize("offset", [0, 1, 4])
def test_data_offset_below_five(offset: int) -> None:
    malformed(raw_segment(offset=offset), "bad-data-offset")


def test_data_offset_past_the_end() -> None:
    malformed(raw_segment(b"\x01" * 4, offset=6)[:23], "bad-data-offset")
    malformed(raw_segment(offset=15, payload=b"x" * 39), "bad-data-offset")
    assert TCP.decode(raw_segment(offset=15, payload=b"\x01" * 40), SRC, DST).payload == b""


def test_bad_checksum() -> None:
    data = raw_segment(payload=b"abc", checksum=0x1234)
    exc = malformed(data, "bad-checksum")
    assert "0x1234" in str(exc)
    assert TCP.decode(data, SRC, DST, verify=False).checksum == 0x1234


def test_checksum_covers_pseudo_header_and_payload() -> None:
    data = raw_segment(payload=b"abc")
    with pytest.raises(MalformedPacket):
        TCP.decode(data, SRC, "198.51.100.3")
    malformed(data[:-1] + b"d", "bad-checksum")
    malformed(data + b"\x00\x01", "bad-checksum")  # the length is in the pseudo-header


@examples(300)
@given(tcp_segments, ipv4_addrs, ipv4_addrs)
def test_round_trip(seg: TCP, src: str, dst: str) -> None:
    data = seg.encode(src, dst)
    back = TCP.decode(data, src, dst)
    assert back == seg._replace(options=options_after_round_trip(seg.options),
                                checksum=int.from_bytes(data[16:18], "big"))
    assert back.encode(src, dst) == data
    assert seg.header_length == back.header_length == (data[12] >> 4) * 4


@examples(400)
@given(fuzz_inputs(tcp_segments.map(lambda s: s.encode(SRC, DST))), st.booleans())
def test_decode_never_raises_anything_but_malformed(data: bytes, verify: bool) -> None:
    decodes_or_malformed(lambda b: TCP.decode(b, SRC, DST, verify=verify), data, "tcp")


def test_flags_str() -> None:
    assert flags_str(TCPFlags.SYN) == "S"
    assert flags_str(TCPFlags.SYN | TCPFlags.ACK) == "S."
    assert flags_str(TCPFlags.PSH | TCPFlags.ACK) == "P."
    assert flags_str(TCPFlags.FIN | TCPFlags.ACK) == "F."
    assert flags_str(TCPFlags.RST) == "R"
    assert flags_str(0) == ""


def test_summary() -> None:
    syn = TCP(40000, 80, 7, 0, TCPFlags.SYN, 64240, options=(
        MSS(1460), SackPermitted(), Timestamps(1, 0), NOP(), WindowScale(7)))
    assert syn.summary() == "TCP 40000 > 80 [S] seq=7 win=64240 mss=1460 sackOK TS=1/0 wscale=7"
    ack = TCP(80, 40000, 8, 100, TCPFlags.ACK, 500, b"xyz", options=(Sack(((1, 5), (9, 12))),))
    assert ack.summary() == "TCP 80 > 40000 [.] seq=8 ack=100 win=500 len=3 sack=1-5,9-12"
