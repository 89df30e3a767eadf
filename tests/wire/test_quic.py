"""QUIC headers, packet protection and frames (wire/quic.py), against RFC 9001's test vectors."""

import random

import pytest

from minternet.wire import quic as q
from minternet.wire.errors import MalformedPacket

# RFC 9001 A.5: a ChaCha20-Poly1305 short header packet carrying one PING.
A5_SECRET = bytes.fromhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")
A5_PACKET = bytes.fromhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb")


def test_initial_secrets_are_rfc_9001_a1():
    client, server = q.initial_secrets(bytes.fromhex("8394c8f03e515708"))
    assert client.hex() == "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"
    assert server.hex() == "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"


def test_short_header_chacha20_packet_of_rfc_9001_a5_opens_to_a_ping():
    packets, error = q.packets(A5_PACKET, short_dcid_len=0)
    assert error is None and len(packets) == 1
    p = packets[0]
    assert not p.long and p.packet_type == "1-RTT" and p.dcid == b"" and p.pn_offset == 1
    plain = q.unprotect(A5_PACKET, p, A5_SECRET, expected_pn=654360564, cipher_suite=0x1303)
    assert plain.packet_number == 654360564
    assert q.frames(plain.payload) == [q.Frame(0x01, 0, 1)]
    # Without the suite, a 32-byte secret is tried with the AEADs of SHA-256.
    assert q.opened_suite(A5_PACKET, p, A5_SECRET, 654360564)[0] == 0x1303
    # Another key does not open it: the AEAD tag says so.
    with pytest.raises(MalformedPacket, match="undecryptable"):
        q.unprotect(A5_PACKET, p, bytes(32), 654360564)


def test_long_header_fields_and_coalesced_packets():
    def long(kind_bits: int, dcid: bytes, scid: bytes, body: bytes, token: bytes | None = None) -> bytes:
        out = bytes([0xC0 | kind_bits << 4 | 1]) + (1).to_bytes(4, "big") + bytes([len(dcid)]) + dcid
        out += bytes([len(scid)]) + scid
        if token is not None:
            out += bytes([len(token)]) + token
        return out + bytes([0x40 | len(body) >> 8, len(body) & 0xFF]) + body
    initial = long(0, b"\x01" * 8, b"\x02" * 8, b"\xaa" * 30, token=b"tok")
    handshake = long(2, b"\x02" * 8, b"\x03" * 4, b"\xbb" * 25)
    packets, error = q.packets(initial + handshake + bytes(20))  # padding after the last: zeros
    assert error is None
    assert [p.packet_type for p in packets] == ["Initial", "Handshake"]
    a, b = packets
    assert (a.dcid, a.scid, a.token, a.length, a.end) == (b"\x01" * 8, b"\x02" * 8, b"tok", 30, len(initial))
    assert (b.offset, b.scid, b.length, b.pn_offset) == (len(initial), b"\x03" * 4, 25, len(initial) + 7 + 8 + 4 + 2)
    retry = bytes([0xF0]) + (1).to_bytes(4, "big") + b"\x00" + b"\x04abcd" + b"token" + bytes(16)
    (r,), _ = q.packets(retry)
    assert r.packet_type == "Retry" and r.token == b"token" and r.scid == b"abcd" and not r.pn_offset
    vn = bytes([0x80]) + bytes(4) + b"\x00\x00" + (1).to_bytes(4, "big")
    (v,), _ = q.packets(vn)
    assert v.packet_type == "Version Negotiation"


def test_frames_of_every_common_kind():
    payload = (b"\x02\x05\x00\x01\x01\x01\x01"  # ACK largest=5 delay=0 1 range: first=1, gap=1 len=1
               + b"\x06\x00\x03abc"  # CRYPTO off=0 len=3
               + b"\x0f\x04\x05\x02hi"  # STREAM id=4 off=5 len=2 fin
               + b"\x18\x01\x00\x02\xab\xcd" + bytes(16)  # NEW_CONNECTION_ID
               + b"\x1d\x00\x04done"  # CONNECTION_CLOSE (application)
               + b"\x1e" + bytes(10))  # HANDSHAKE_DONE, PADDING x10
    fs = q.frames(payload)
    assert [f.name for f in fs] == ["ACK", "CRYPTO", "STREAM", "NEW_CONNECTION_ID", "CONNECTION_CLOSE",
                                    "HANDSHAKE_DONE", "PADDING"]
    assert fs[0].get("ranges") == ((4, 5), (0, 1)) and fs[0].summary() == "ACK 4-5,0-1"  # RFC 9000 19.3.1
    assert fs[1].data == b"abc" and fs[1].summary() == "CRYPTO off=0 len=3"
    assert fs[2].summary() == "STREAM id=4 off=5 len=2 fin" and fs[2].data == b"hi"
    assert fs[3].get("connection id") == b"\xab\xcd"
    assert fs[4].get("reason") == "done"
    assert fs[6].summary() == "PADDING x10"


def test_bad_bytes_never_crash_and_say_where_they_stop():
    rng = random.Random(7)
    for _ in range(3000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
        packets, error = q.packets(data, short_dcid_len=8)
        assert isinstance(packets, list) and (error is None or isinstance(error, str))
        try:
            q.frames(data)
        except q.FramesError as exc:
            assert isinstance(exc.frames, list)
    _, error = q.packets(b"\xc0\x00\x00\x00\x01\x15" + bytes(30))
    assert error == "long header at byte 0: bad-cid-length (21)"
    with pytest.raises(q.FramesError, match="unknown-frame"):
        q.frames(b"\x01\x40\x99")
