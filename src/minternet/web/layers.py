"""Every field of a frame, layer by layer, with the bytes each field occupies (for the page).

The codecs in :mod:`minternet.wire` give typed values but no offsets; the offsets here follow the
fixed header layouts of the RFCs (Ethernet, RFC 826, RFC 791, RFC 792, RFC 768, RFC 9293,
RFC 1035 4.1.1), so the page can highlight the bytes of the field one selects.
"""

from __future__ import annotations

from typing import Any

from ..wire.arp import ARP, ARPOp
from ..wire.dissect import dissect, dissect_ip
from ..wire.errors import MalformedPacket
from ..wire.ethernet import Ethernet
from ..wire.icmp import ICMP, ICMPType
from ..wire.ipv4 import IPProto, IPv4
from ..wire.tcp import TCP, TCPFlags
from ..wire.udp import UDP

HTTP_PORTS = {80, 8080, 8000}


def _mac(b: bytes) -> str:
    return b.hex(":")


def _enum(cls: Any, value: int) -> str:
    try:
        return f"{cls(value).name} ({value})"
    except ValueError:
        return str(value)


def _field(name: str, value: Any, start: int, end: int) -> dict[str, Any]:
    return {"name": name, "value": str(value), "start": start, "end": end}


def _ethernet(eth: Ethernet, o: int) -> dict[str, Any]:
    return {"name": "Ethernet", "start": o, "end": o + 14, "fields": [
        _field("destination", _mac(eth.dst), o, o + 6),
        _field("source", _mac(eth.src), o + 6, o + 12),
        _field("ethertype", f"0x{eth.ethertype:04x}", o + 12, o + 14)]}


def _arp(arp: ARP, o: int) -> dict[str, Any]:
    return {"name": "ARP", "start": o, "end": o + 28, "fields": [
        _field("operation", _enum(ARPOp, arp.op), o + 6, o + 8),
        _field("sender MAC", _mac(arp.sha), o + 8, o + 14),
        _field("sender IP", arp.spa, o + 14, o + 18),
        _field("target MAC", _mac(arp.tha), o + 18, o + 24),
        _field("target IP", arp.tpa, o + 24, o + 28)]}


def _ipv4(ip: IPv4, o: int, raw: bytes) -> dict[str, Any]:
    hl = (raw[o] & 0x0F) * 4
    total = int.from_bytes(raw[o + 2:o + 4], "big")
    fields = [
        _field("version", 4, o, o + 1),
        _field("header length", hl, o, o + 1),
        _field("TOS", ip.tos, o + 1, o + 2),
        _field("total length", total, o + 2, o + 4),
        _field("identification", ip.ident, o + 4, o + 6),
        _field("flags", " ".join(n for n, bit in (("DF", 2), ("MF", 1)) if ip.flags & bit) or "none", o + 6, o + 7),
        _field("fragment offset", ip.frag_offset * 8, o + 6, o + 8),
        _field("TTL", ip.ttl, o + 8, o + 9),
        _field("protocol", _enum(IPProto, ip.proto), o + 9, o + 10),
        _field("header checksum", f"0x{ip.checksum:04x}", o + 10, o + 12),
        _field("source", ip.src, o + 12, o + 16),
        _field("destination", ip.dst, o + 16, o + 20)]
    if hl > 20:
        fields.append(_field("options", ip.options.hex(), o + 20, o + hl))
    return {"name": "IPv4", "start": o, "end": o + hl, "fields": fields}


def _icmp(msg: ICMP, o: int, end: int) -> dict[str, Any]:
    fields = [_field("type", _enum(ICMPType, msg.type), o, o + 1),
              _field("code", msg.code, o + 1, o + 2),
              _field("checksum", f"0x{msg.checksum:04x}", o + 2, o + 4)]
    if msg.type in (ICMPType.ECHO_REQUEST, ICMPType.ECHO_REPLY):
        fields += [_field("identifier", msg.rest >> 16, o + 4, o + 6),
                   _field("sequence number", msg.rest & 0xFFFF, o + 6, o + 8)]
    else:
        fields.append(_field("rest of header", f"0x{msg.rest:08x}", o + 4, o + 8))
    if end > o + 8:
        fields.append(_field("data", f"{end - o - 8} bytes", o + 8, end))
    return {"name": "ICMP", "start": o, "end": end, "fields": fields}


def _udp(u: UDP, o: int, end: int) -> dict[str, Any]:
    return {"name": "UDP", "start": o, "end": o + 8, "fields": [
        _field("source port", u.sport, o, o + 2),
        _field("destination port", u.dport, o + 2, o + 4),
        _field("length", 8 + len(u.payload), o + 4, o + 6),
        _field("checksum", f"0x{u.checksum:04x}", o + 6, o + 8)]}


def _tcp(t: TCP, o: int, raw: bytes) -> dict[str, Any]:
    hl = (raw[o + 12] >> 4) * 4
    flags = "|".join(f.name for f in TCPFlags if f.name and t.flags & f) or "none"
    fields = [
        _field("source port", t.sport, o, o + 2),
        _field("destination port", t.dport, o + 2, o + 4),
        _field("sequence number", t.seq, o + 4, o + 8),
        _field("acknowledgment number", t.ack, o + 8, o + 12),
        _field("header length", hl, o + 12, o + 13),
        _field("flags", flags, o + 12, o + 14),
        _field("window", t.window, o + 14, o + 16),
        _field("checksum", f"0x{t.checksum:04x}", o + 16, o + 18),
        _field("urgent pointer", t.urgent, o + 18, o + 20)]
    if hl > 20:
        fields.append(_field("options", ", ".join(repr(x) for x in t.options) or "-", o + 20, o + hl))
    fields.append(_field("payload length", len(t.payload), o + hl, o + hl + len(t.payload)))
    return {"name": "TCP", "start": o, "end": o + hl, "fields": fields}


def _dns(payload: bytes, o: int) -> dict[str, Any] | None:
    from ..wire.dns import DNSMessage, Opcode, Rcode
    try:
        m = DNSMessage.decode(payload)
    except (MalformedPacket, ValueError):
        return None
    end = o + len(payload)
    flags = " ".join(n for n in ("qr", "aa", "tc", "rd", "ra", "ad", "cd") if getattr(m, n)) or "none"
    fields = [
        _field("ID", f"0x{m.id:04x}", o, o + 2),
        _field("flags", flags, o + 2, o + 4),
        _field("opcode", _enum(Opcode, m.opcode), o + 2, o + 3),
        _field("rcode", _enum(Rcode, m.rcode), o + 3, o + 4),
        _field("questions", len(m.questions), o + 4, o + 6),
        _field("answers", len(m.answers), o + 6, o + 8),
        _field("authority", len(m.authority), o + 8, o + 10),
        _field("additional", len(m.additional), o + 10, o + 12)]
    # Names are compressed, so records have no simple offsets: each points at the body as a whole.
    for q in m.questions:
        fields.append(_field("question", q.to_text(), o + 12, end))
    for title, section in zip(("answer", "authority", "additional"), m.sections):
        for rr in section:
            fields.append(_field(title, rr.to_text(), o + 12, end))
    return {"name": "DNS", "start": o, "end": end, "fields": fields}


def _http(payload: bytes, o: int) -> dict[str, Any] | None:
    head, sep, _ = payload.partition(b"\r\n\r\n")
    if not sep and b"\r\n" not in payload:
        return None
    fields = []
    pos = o
    for i, line in enumerate(head.split(b"\r\n")):
        text = line.decode("latin-1")
        name = "start line" if i == 0 else (text.split(":", 1)[0] if ":" in text else "line")
        fields.append(_field(name, text, pos, pos + len(line)))
        pos += len(line) + 2
    if sep and len(payload) > len(head) + 4:
        body = len(payload) - len(head) - 4
        fields.append(_field("body", f"{body} bytes", pos + 2, o + len(payload)))
    return {"name": "HTTP", "start": o, "end": o + len(payload), "fields": fields}


def _tls(seg: Any, o: int, end: int) -> list[dict[str, Any]]:
    """A layer per TLS record (a TCPSegment read by observe.secure), and one for bytes continued
    from a record begun in an earlier segment."""
    from ..wire import tls
    layers = []
    if seg.continued:
        what = tls.name_of(tls.ContentType, seg.continued_type) if seg.continued_type is not None else "unknown"
        layers.append({"name": "TLS (continued record)", "start": o, "end": o + seg.continued, "fields": [
            _field("continues a record of", what, o, o + seg.continued),
            _field("bytes", seg.continued, o, o + seg.continued)]})
    for r in seg.records:
        a = o + r.offset
        b = min(end, a + 5 + r.length)
        fields = [_field("content type", f"{tls.name_of(tls.ContentType, r.content_type)} ({r.content_type})", a, a + 1),
                  _field("version", f"{tls.version_text(r.version)} (0x{r.version:04x})", a + 1, a + 3),
                  _field("length", r.length if r.complete else f"{r.length} ({len(r.fragment)} in this segment)",
                         a + 3, a + 5)]
        if r.content_type == tls.ContentType.handshake:
            for m in tls.handshake_messages(r.fragment):
                m0 = a + 5 + m.offset
                m1 = min(b, m0 + 4 + m.length)
                fields.append(_field("handshake", f"{m.name} ({m.type}), {m.length} bytes"
                                     + ("" if m.complete else ", continues"), m0, m1))
                fields += _hello_fields(m, m0, m1)
        elif r.content_type == tls.ContentType.application_data:
            fields.append(_field("encrypted", f"{len(r.fragment)} bytes (TLS 1.3: the rest of the handshake and "
                                 "the application's data, not readable on the path)", a + 5, b))
        elif r.content_type == tls.ContentType.alert:
            fields.append(_field("alert", tls.describe_record(r), a + 5, b))
        layers.append({"name": f"TLS record: {tls.describe_record(r)}", "start": a, "end": b, "fields": fields})
    if seg.undecoded is not None:
        layers.append({"name": "TLS (undecodable)", "start": o + seg.undecoded, "end": end, "fields": [
            _field("bytes", f"{end - o - seg.undecoded} bytes that are no TLS record", o + seg.undecoded, end)]})
    return layers


def _hello_fields(m: Any, start: int, end: int) -> list[dict[str, Any]]:
    from ..wire import tls
    try:
        hello = tls.parse_hello(m)
    except MalformedPacket as exc:
        return [_field("malformed", str(exc), start, end)]
    if hello is None:
        return []
    out = [_field("random", hello.random.hex(), start + 6, start + 38)]
    if hello.server_name:
        out.append(_field("server name (SNI)", hello.server_name, start, end))
    if hello.alpn:
        out.append(_field("ALPN", ", ".join(hello.alpn), start, end))
    suites = ", ".join(tls.CIPHER_SUITES.get(c, f"0x{c:04x}") for c in hello.cipher_suites)
    out.append(_field("cipher suites" if hello.kind == "ClientHello" else "cipher suite", suites, start, end))
    if hello.versions:
        out.append(_field("supported versions", ", ".join(tls.version_text(v) for v in hello.versions), start, end))
    if hello.psk:
        out.append(_field("pre-shared key", "yes: resuming an earlier session", start, end))
    if hello.early_data:
        out.append(_field("early data", "yes (0-RTT)", start, end))
    return out


def _quic(datagram: Any, o: int, end: int) -> list[dict[str, Any]]:
    """A layer per QUIC packet of a datagram (a QuicDatagram read by observe.secure): the header,
    and the frames where the keys opened it (their bytes are encrypted on the wire: each points
    at the packet's protected part)."""
    layers = []
    for view in datagram.packets:
        p = view.packet
        a, b = o + p.offset, o + p.end
        fields = [_field("header form", "long" if p.long else "short", a, a + 1),
                  _field("packet type", p.packet_type, a, a + 1)]
        if p.long:
            fields.append(_field("version", p.version_text, a + 1, a + 5))
            d0 = a + 6
            fields.append(_field("destination connection ID", p.dcid.hex() or "(empty)", d0, d0 + len(p.dcid)))
            s0 = d0 + len(p.dcid) + 1
            fields.append(_field("source connection ID", (p.scid or b"").hex() or "(empty)", s0, s0 + len(p.scid or b"")))
            if p.packet_type in ("Initial", "Retry"):
                fields.append(_field("token", f"{len(p.token)} bytes", s0 + len(p.scid or b""), o + (p.pn_offset or p.end)))
            if p.length is not None:
                fields.append(_field("length", p.length, o + p.pn_offset - 2, o + p.pn_offset))
        else:
            fields.append(_field("destination connection ID", p.dcid.hex() or "(not known)", a + 1, a + 1 + len(p.dcid)))
        protected = o + p.pn_offset if p.pn_offset else b
        if view.packet_number is not None:
            fields.append(_field("packet number", view.packet_number, protected, min(b, protected + 2)))
        if view.sender:
            fields.append(_field("sent by", view.sender, a, b))
        if view.frames is not None:
            for f in view.frames:
                text = f.summary()
                if f.type == 0x06 and view.hello is not None and f.get("offset") == 0:
                    text += f": {view.hello.describe()}"
                fields.append(_field(f"frame {f.name}", text, protected, b))
        if view.note:
            fields.append(_field("payload", view.note, protected, b))
        layers.append({"name": f"QUIC {p.packet_type}" + (" (decrypted)" if view.frames is not None and
                                                          p.packet_type != "Initial" else ""),
                       "start": a, "end": b, "fields": fields})
    if datagram.error:
        layers.append({"name": "QUIC (undecodable)", "start": o, "end": end,
                       "fields": [_field("error", datagram.error, o, end)]})
    return layers


def describe(frame: bytes | None, packet: bytes | None, secure: Any = None) -> dict[str, Any]:
    """{"hex": ..., "layers": [{"name", "start", "end", "fields": [...]}], "error": str|None}.

    ``secure`` (an observe.secure.SecureDecoder) adds TLS records over TCP and QUIC packets over
    UDP as layers of their own."""
    raw = frame if frame is not None else packet
    if raw is None:
        return {"hex": "", "layers": [], "error": None}
    layers: list[dict[str, Any]] = []
    error = None
    if frame is not None:
        d = dissect(frame)
        decoded, error = d.layers, (str(d.error) if d.error else None)
        offset = 0
    else:
        try:
            decoded = dissect_ip(packet)
        except MalformedPacket as exc:
            decoded, error = [], str(exc)
        offset = 0
    ip_end = len(raw)
    for layer in decoded:
        if isinstance(layer, Ethernet):
            layers.append(_ethernet(layer, offset))
            offset += 14
        elif isinstance(layer, ARP):
            layers.append(_arp(layer, offset))
        elif isinstance(layer, IPv4):
            info = _ipv4(layer, offset, raw)
            layers.append(info)
            ip_end = min(len(raw), offset + int.from_bytes(raw[offset + 2:offset + 4], "big"))
            offset = info["end"]
        elif isinstance(layer, ICMP):
            layers.append(_icmp(layer, offset, ip_end))
            if layer.type in (ICMPType.DEST_UNREACHABLE, ICMPType.TIME_EXCEEDED):
                # An error quotes the datagram that caused it: show that header too (RFC 792).
                try:
                    quoted = layer.quoted()
                except MalformedPacket:
                    continue
                inner = _ipv4(quoted, offset + 8, raw)
                inner["name"] = "quoted IPv4"
                layers.append(inner)
                q = inner["end"]
                if quoted.proto in (IPProto.UDP, IPProto.TCP) and len(raw) >= q + 4:
                    layers.append({"name": f"quoted {IPProto(quoted.proto).name}", "start": q, "end": q + 4, "fields": [
                        _field("source port", int.from_bytes(raw[q:q + 2], "big"), q, q + 2),
                        _field("destination port", int.from_bytes(raw[q + 2:q + 4], "big"), q + 2, q + 4)]})
        elif isinstance(layer, UDP):
            layers.append(_udp(layer, offset, ip_end))
            if 53 in (layer.sport, layer.dport) and layer.payload:
                app = _dns(layer.payload, offset + 8)
                if app:
                    layers.append(app)
            elif secure is not None and layer.payload and secure.is_quic(layer.sport, layer.dport, layer.payload):
                layers += _quic(secure.quic_datagram(layer.payload), offset + 8, ip_end)
        elif isinstance(layer, TCP):
            info = _tcp(layer, offset, raw)
            layers.append(info)
            if layer.payload:
                if HTTP_PORTS & {layer.sport, layer.dport}:
                    app = _http(layer.payload, info["end"])
                    if app:
                        layers.append(app)
                elif 53 in (layer.sport, layer.dport) and len(layer.payload) > 2:
                    app = _dns(layer.payload[2:], info["end"] + 2)  # RFC 1035 4.2.2: length prefix
                    if app:
                        layers.append(app)
                elif secure is not None:
                    ip = next(x for x in decoded if isinstance(x, IPv4))
                    if secure.is_tls(ip.src, layer.sport, ip.dst, layer.dport, layer.payload):
                        seg = secure.tls_segment(ip.src, layer.sport, ip.dst, layer.dport, layer.seq, layer.payload)
                        layers += _tls(seg, info["end"], info["end"] + len(layer.payload))
    return {"hex": raw.hex(), "layers": layers, "error": error}


def protocol(frame: bytes | None, packet: bytes | None) -> str | None:
    """The colour class of a frame or packet: arp, icmp, udp, dns, tcp, http (None: not a packet).

    Reads a few bytes at fixed offsets instead of decoding: it runs for every event."""
    if frame is not None:
        if len(frame) < 14:
            return None
        et = frame[12:14]
        if et == b"\x08\x06":
            return "arp"
        if et != b"\x08\x00":
            return None
        ip = frame[14:]
    elif packet is not None:
        ip = packet
    else:
        return None
    if len(ip) < 20:
        return None
    proto = ip[9]
    if proto == 1:
        return "icmp"
    hl = (ip[0] & 0x0F) * 4
    frag = int.from_bytes(ip[6:8], "big") & 0x1FFF
    ports = (int.from_bytes(ip[hl:hl + 2], "big"), int.from_bytes(ip[hl + 2:hl + 4], "big")) if not frag and len(ip) >= hl + 4 else ()
    if proto == 17:
        return "dns" if 53 in ports else "udp"
    if proto == 6:
        if 53 in ports:
            return "dns"
        return "http" if HTTP_PORTS & set(ports) else "tcp"
    return None
