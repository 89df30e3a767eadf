"""Ethernet II frames and MAC address helpers."""

from __future__ import annotations

import pytest
from hypothesis import given

from minternet.wire import BROADCAST, EtherType, Ethernet, MalformedPacket, mac_from_str, mac_to_str

from .strategies import decodes_or_malformed, examples, fuzz_inputs, macs, payloads, u16, valid_frames

MAC_A = bytes.fromhex("020000000101")
MAC_B = bytes.fromhex("020000000202")


def test_encode_layout() -> None:
    frame = Ethernet(BROADCAST, MAC_A, EtherType.ARP, b"hello").encode()
    assert frame == b"\xff" * 6 + MAC_A + b"\x08\x06" + b"hello"


def test_decode_fields() -> None:
    eth = Ethernet.decode(MAC_B + MAC_A + b"\x08\x00" + b"payload")
    assert eth == Ethernet(MAC_B, MAC_A, 0x0800, b"payload")
    assert eth.ethertype == EtherType.IPV4
    assert type(eth.payload) is bytes


def test_header_only_frame_has_empty_payload() -> None:
    assert Ethernet.decode(MAC_B + MAC_A + b"\x86\xdd").payload == b""


@pytest.mark.parametrize("size", range(14))
def test_truncated(size: int) -> None:
    with pytest.raises(MalformedPacket) as exc:
        Ethernet.decode(bytes(size))
    assert (exc.value.layer, exc.value.reason) == ("ethernet", "truncated")


def test_decode_memoryview_copies_payload() -> None:
    buf = bytearray(MAC_B + MAC_A + b"\x08\x00abc")
    eth = Ethernet.decode(memoryview(buf))
    buf[14] = ord("X")  # the decoded frame must not alias the receive buffer
    assert eth.payload == b"abc" and type(eth.payload) is bytes


@examples(200)
@given(macs, macs, u16, payloads)
def test_round_trip(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> None:
    eth = Ethernet(dst, src, ethertype, payload)
    assert Ethernet.decode(eth.encode()) == eth
    assert len(eth.encode()) == 14 + len(payload)


@examples(300)
@given(fuzz_inputs(valid_frames(), max_random=30))
def test_decode_never_raises_anything_but_malformed(data: bytes) -> None:
    eth = decodes_or_malformed(Ethernet.decode, data, "ethernet")
    if eth is not None:
        assert eth.encode() == data


def test_mac_helpers() -> None:
    assert mac_to_str(MAC_A) == "02:00:00:00:01:01"
    assert mac_from_str("02:00:00:00:01:01") == MAC_A
    assert mac_from_str("02-00-00-00-01-01") == MAC_A
    assert mac_from_str("FF:FF:FF:FF:FF:FF") == BROADCAST


@pytest.mark.parametrize("text", ["", "02:00:00:00:01", "02:00:00:00:01:01:01", "2:0:0:0:1:1",
                                  "02:00:00:00:01:zz", "020000000101"])
def test_mac_from_str_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        mac_from_str(text)


@examples(100)
@given(macs)
def test_mac_str_round_trip(mac: bytes) -> None:
    assert mac_from_str(mac_to_str(mac)) == mac


def test_summary() -> None:
    assert Ethernet(BROADCAST, MAC_A, 0x0806).summary() == "Ether 02:00:00:00:01:01 > ff:ff:ff:ff:ff:ff ARP"
    assert Ethernet(MAC_B, MAC_A, 0x88CC).summary().endswith(" 0x88cc")
