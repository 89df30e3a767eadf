"""Topology files: a small internet described in TOML.

Every mistake is reported before anything runs, as ``FILE:LINE: what is wrong (what would be
valid)``. tomllib gives no line numbers for values, so a light scan of the text
(:class:`minternet.tomlpos.TomlLines`) maps each table and key back to its line.
"""

from __future__ import annotations

import difflib
import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..application.dns.zone import ZoneError
from ..application.dns.zonefile import load_zone
from ..application.ping import ping
from ..application.traceroute import traceroute
from ..runtime import NS_PER_S
from ..tomlpos import TomlLines, decode_error
from ..wire.ethernet import mac_from_str
from .link import PARAM_NAMES, good_cost as _good_cost
from .network import Network
from .switch import Switch
from .units import parse_rate, parse_time

LINK_PARAM_KEYS = set(PARAM_NAMES)
KEYS = {
    "": {"name", "seed", "routing", "host", "router", "switch", "link", "route", "event", "domain"},
    "routing": {"reconverge"},
    "host": {"name", "interfaces", "gateway", "dns", "nameserver", "hosts", "tcp"},
    "router": {"name", "interfaces"},
    "switch": {"name"},
    "link": {"endpoints", "name", "cost"} | LINK_PARAM_KEYS,
    "route": {"node", "prefix", "via", "dev", "metric"},
    "event": {"at", "down", "up", "link", "ping", "traceroute"} | LINK_PARAM_KEYS,
    "domain": {"name", "address", "server", "https"},
}
DNS_ROLES = ("root", "tld", "authoritative", "resolver")
DNS_KEYS = {"role", "zone", "zone_files", "ns_name"}
IFACE_KEYS = {"address", "mtu", "mac"}
TCP_KEYS = {"rto_min"}  # [[host]] tcp = { ... }: the host's TCP defaults (like Linux's sysctls)
PING_KEYS = {"from", "to", "count", "size", "interval"}
TRACE_KEYS = {"from", "to", "max_hops"}


class TopologyError(ValueError):
    """A mistake in a topology file, with where it is."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def link_param(key: str, value: Any) -> Any:
    """One link parameter (``loss = 0.01``, ``delay = "5ms"``, ...) checked and in the units a
    link takes (ns, bit/s). Raises ValueError with what would be valid; the topology's
    [[link]] and [[event]] tables and sweep files (:mod:`minternet.sweep.spec`) all read them here."""
    where = f"{key} = {value!r}"
    if key in ("delay", "jitter", "reorder_delay"):
        return parse_time(value)
    if key == "bandwidth":
        return parse_rate(value)
    if key in ("loss", "duplicate", "reorder", "corrupt"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"{where}: a probability from 0 to 1 (0.01 is 1%)")
        return float(value)
    if key == "mtu":
        if isinstance(value, bool) or not isinstance(value, int) or not 68 <= value <= 65535:
            raise ValueError(f"{where}: a whole number of bytes from 68 to 65535 (1500 is Ethernet)")
        return value
    if key == "queue":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}: the number of frames a link may queue, a whole "
                             "number >= 1 (Linux's default is 1000)")
        return value
    raise ValueError(f"unknown link parameter {key!r}")


@dataclass
class Topology:
    """A loaded topology: the network, and what its timeline will do."""

    network: Network
    path: str
    events: list[tuple[int, str]] = field(default_factory=list)  # (time, description)
    warnings: list[str] = field(default_factory=list)  # "PATH:LINE: message", e.g. from a zone file
    files: list[str] = field(default_factory=list)  # the files it read besides itself (zone files)

    @property
    def last_event(self) -> int:
        return max((t for t, _ in self.events), default=0)


def load(path: str | Path, seed: int | None = None, out: Callable[[str], None] = print) -> Topology:
    """Read a topology file and build its network. Raises :class:`TopologyError`."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TopologyError(path, None, f"cannot read the file: {exc.strerror}") from None
    return loads(text, path, seed=seed, out=out)


def loads(text: str, path: str = "<topology>", seed: int | None = None,
          out: Callable[[str], None] = print, events: list[dict] | None = None) -> Topology:
    """Build the network of a topology text; ``events`` are more [[event]] tables, after the
    text's own (a sweep's per-cell timeline: :mod:`minternet.sweep.spec`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, msg = decode_error(exc)
        raise TopologyError(path, line, f"not valid TOML: {msg}") from None
    if events:
        own = data.get("event", [])
        if isinstance(own, list):  # otherwise the build says how [[event]] is written
            data["event"] = own + list(events)
    return _Builder(data, TomlLines(text), path, seed, out).build()


class _Builder:
    def __init__(self, data: dict, loc: TomlLines, path: str, seed: int | None, out: Callable[[str], None]) -> None:
        self.data = data
        self.loc = loc
        self.path = path
        self.seed = seed
        self.out = out
        self.addresses: dict[str, str] = {}  # address -> "node:iface"
        self.warnings: list[str] = []
        self.files: list[str] = []

    def error(self, kind: str, index: int, key: str | None, message: str, needle: str | None = None) -> TopologyError:
        return TopologyError(self.path, self.loc.line(kind, index, key, needle), message)

    def check_keys(self, kind: str, index: int, table: Any, what: str) -> None:
        if not isinstance(table, dict):
            raise self.error(kind, index, None, f"{what} must be a table")
        valid = KEYS[kind]
        for key in table:
            if key not in valid:
                raise self.error(kind, index, key, f"{what}: unknown key {key!r} "
                                 f"(valid keys: {', '.join(sorted(valid))}){_suggest(key, valid)}")

    def items(self, kind: str) -> list[tuple[int, dict]]:
        value = self.data.get(kind, [])
        if not isinstance(value, list):
            raise self.error(kind, 0, None, f"{kind!r} must be written as [[{kind}]] tables")
        return list(enumerate(value))

    # -- the build ----------------------------------------------------------------------------------
    def build(self) -> Topology:
        self.check_keys("", 0, self.data, "top level")
        seed = self.seed if self.seed is not None else self.data.get("seed", 0)
        if not isinstance(seed, int):
            raise self.error("", 0, "seed", f"seed must be a whole number, not {seed!r}")
        routing = self.data.get("routing", {})
        self.check_keys("routing", 0, routing, "[routing]")
        reconverge: int | None = NS_PER_S
        if "reconverge" in routing:
            value = routing["reconverge"]
            if value in ("never", "off", False):
                reconverge = None
            else:
                reconverge = self.time("routing", 0, "reconverge", value)
        net = Network(seed=seed, reconverge=reconverge, name=str(self.data.get("name", Path(self.path).stem)))
        topo = Topology(net, self.path, warnings=self.warnings, files=self.files)
        for kind in ("host", "router", "switch"):
            for i, spec in self.items(kind):
                self.node(net, kind, i, spec)
        for i, spec in self.items("link"):
            self.link(net, i, spec)
        self.check_segments(net)
        for i, spec in self.items("route"):
            self.route(net, i, spec)
        self.dns(net)
        for i, spec in self.items("event"):
            self.event(net, topo, i, spec)
        return topo

    # -- DNS ------------------------------------------------------------------------------------------
    def dns(self, net: Network) -> None:
        """DNS roles on hosts (root first, then TLDs, then the rest), [[domain]] registrations,
        and each host's name server and static hosts table."""
        specs = [(i, spec) for i, spec in self.items("host") if "dns" in spec]
        roles: list[tuple[int, dict, str]] = []
        for i, spec in specs:
            role_spec = spec["dns"]
            if isinstance(role_spec, str):
                role_spec = {"role": role_spec}
            if not isinstance(role_spec, dict) or role_spec.get("role") not in DNS_ROLES:
                raise self.error("host", i, "dns", f"{spec['name']}: dns must be one of "
                                 f"{', '.join(repr(r) for r in DNS_ROLES)}, or a table like "
                                 "{ role = \"tld\", zone = \"com\" }")
            for key in role_spec:
                if key not in DNS_KEYS:
                    raise self.error("host", i, "dns", f"{spec['name']}: dns: unknown key {key!r} (valid keys: "
                                     f"{', '.join(sorted(DNS_KEYS))}){_suggest(key, DNS_KEYS)}")
            roles.append((i, role_spec, spec["name"]))
        order = {r: n for n, r in enumerate(DNS_ROLES)}
        for i, role_spec, name in sorted(roles, key=lambda x: order[x[1]["role"]]):
            host = net.host(name)
            role = role_spec["role"]
            try:
                if role == "root":
                    net.dns.add_root(host, role_spec.get("ns_name"))
                elif role == "tld":
                    if not isinstance(role_spec.get("zone"), str):
                        raise ValueError("a TLD server needs zone = \"com\" (the top-level domain it serves)")
                    net.dns.add_tld(role_spec["zone"], host, role_spec.get("ns_name"))
                elif role == "resolver":
                    if not net.dns.root_hints:
                        raise ValueError("a resolver needs a root server in the network (a host with dns = \"root\")")
                    net.dns.add_resolver(host)
                files = role_spec.get("zone_files", [])
                if files and role != "authoritative":
                    raise ValueError("zone_files go with role = \"authoritative\"")
                for f in files:
                    self.zone_file(net, host, f)
                if role == "authoritative":
                    net.dns.authority_on(host)
            except TopologyError:
                raise  # a zone file's own mistake, with its own file and line
            except ValueError as exc:
                raise self.error("host", i, "dns", f"{name}: {exc}") from None
        for i, spec in self.items("domain"):
            what = f"[[domain]] #{i + 1}"
            self.check_keys("domain", i, spec, what)
            name, address, server = spec.get("name"), spec.get("address"), spec.get("server")
            if not isinstance(name, str) or not isinstance(address, str) or not isinstance(server, str):
                raise self.error("domain", i, None, f"{what}: give name = \"example.com\", address = \"10.0.2.10\" "
                                 "(where the name points) and server = \"HOST\" (the host that serves its zone)")
            try:
                ipaddress.IPv4Address(address)
            except ValueError:
                raise self.error("domain", i, "address", f"{what}: {address!r} is not an IPv4 address") from None
            if server not in net.dns.authorities:
                raise self.error("domain", i, "server", f"{what}: server {server!r} is not a DNS server; give it "
                                 "dns = \"authoritative\" in its [[host]] table")
            https = spec.get("https")
            if https is not None and (not isinstance(https, list) or not https or not all(
                    isinstance(p, str) and 0 < len(p) < 256 and p.isascii() for p in https)):
                raise self.error("domain", i, "https", f"{what}: https is the list of ALPN ids its HTTPS "
                                 "record (RFC 9460) advertises, like https = [\"h3\", \"h2\"]")
            try:
                net.dns.register(name, address, net.host(server), https=https)
            except ValueError as exc:
                raise self.error("domain", i, "name", f"{what}: {exc}") from None
        for i, spec in self.items("host"):
            host = net.host(spec["name"])
            ns = spec.get("nameserver")
            if ns is not None:
                try:
                    ipaddress.IPv4Address(ns)
                except ValueError:
                    raise self.error("host", i, "nameserver", f"{spec['name']}: nameserver {ns!r} is not an IPv4 "
                                     "address (the address of a resolver, like /etc/resolv.conf)") from None
                host.stub_resolver.nameservers = [ns]
            table = spec.get("hosts", {})
            if not isinstance(table, dict):
                raise self.error("host", i, "hosts", f"{spec['name']}: hosts must be a table of name = \"address\"")
            for hname, addr in table.items():
                try:
                    ipaddress.IPv4Address(addr)
                except ValueError:
                    raise self.error("host", i, "hosts", f"{spec['name']}: hosts: {hname} = {addr!r} is not an "
                                     "IPv4 address", needle=hname) from None
                host.stub_resolver.add_host(hname, addr)

    def zone_file(self, net: Network, host, path: str) -> None:
        full = Path(self.path).parent / path
        self.files.append(str(full))
        try:
            zone = load_zone(str(full))
        except ZoneError as exc:
            raise TopologyError(exc.path, exc.line, exc.message) from None
        except OSError as exc:
            raise ValueError(f"cannot read zone file {full}: {exc.strerror}") from None
        self.warnings += zone.warnings
        net.dns.serve_zone(host, zone)

    def time(self, kind: str, index: int, key: str, value: Any) -> int:
        try:
            return parse_time(value)
        except ValueError as exc:
            raise self.error(kind, index, key, f"{key}: {exc}") from None

    def node(self, net: Network, kind: str, i: int, spec: Any) -> None:
        self.check_keys(kind, i, spec, f"[[{kind}]] #{i + 1}")
        try:
            name = net.check_new_name(spec.get("name"))
        except ValueError as exc:
            raise self.error(kind, i, "name", f"[[{kind}]] #{i + 1}: {exc}") from None
        if kind == "switch":
            net.add_switch(name)
            return
        ifaces = spec.get("interfaces", {})
        if not isinstance(ifaces, dict):
            raise self.error(kind, i, "interfaces", f"{name}: interfaces must be a table like "
                             "{ eth0 = \"10.0.1.10/24\" }")
        clean: dict[str, dict] = {}
        for ifname, value in ifaces.items():
            where = dict(kind=kind, index=i, key="interfaces", needle=ifname)
            if isinstance(value, str):
                value = {"address": value}
            if not isinstance(value, dict):
                raise self.error(message=f"{name}:{ifname}: give an address like \"10.0.1.10/24\" or a table "
                                 "{ address = ..., mtu = ..., mac = ... }", **where)
            for key in value:
                if key not in IFACE_KEYS:
                    raise self.error(message=f"{name}:{ifname}: unknown key {key!r} (valid keys: "
                                     f"{', '.join(sorted(IFACE_KEYS))}){_suggest(key, IFACE_KEYS)}", **where)
            addr = value.get("address")
            if addr is not None:
                if not isinstance(addr, str) or "/" not in addr:
                    raise self.error(message=f"{name}:{ifname}: address {addr!r} needs a prefix length, "
                                     "like \"10.0.1.10/24\"", **where)
                try:
                    iface = ipaddress.IPv4Interface(addr)
                except ValueError as exc:
                    raise self.error(message=f"{name}:{ifname}: {addr!r} is not an IPv4 address with prefix "
                                     f"({exc})", **where) from None
                if iface.network.prefixlen < 31 and iface.ip in (iface.network.network_address,
                                                                 iface.network.broadcast_address):
                    raise self.error(message=f"{name}:{ifname}: {addr} is the subnet's network or broadcast "
                                     f"address; pick a host address inside {iface.network}", **where)
                ip = str(iface.ip)
                if ip in self.addresses:
                    raise self.error(message=f"{name}:{ifname}: address {ip} is already used by "
                                     f"{self.addresses[ip]}; every interface needs its own", **where)
                self.addresses[ip] = f"{name}:{ifname}"
            mtu = value.get("mtu", 1500)
            if not isinstance(mtu, int) or not 68 <= mtu <= 65535:
                raise self.error(message=f"{name}:{ifname}: mtu must be a whole number from 68 to 65535 "
                                 f"(got {mtu!r})", **where)
            if "mac" in value:
                try:
                    if not isinstance(value["mac"], str):
                        raise ValueError(f"not a MAC address: {value['mac']!r}")
                    mac_from_str(value["mac"])
                except ValueError as exc:
                    raise self.error(message=f"{name}:{ifname}: {exc}", **where) from None
            clean[ifname] = value
        host = net.add_host(name, clean, forwarding=(kind == "router"))
        gw = spec.get("gateway")
        if gw is not None:
            try:
                gw_int = int(ipaddress.IPv4Address(gw))
            except (ValueError, TypeError):
                raise self.error(kind, i, "gateway", f"{name}: gateway {gw!r} is not an IPv4 address") from None
            if not any(iface.on_link(gw_int) for iface in host.interfaces.values()):
                subnets = ", ".join(f"{ipaddress.IPv4Network((x.network, x.prefixlen))}"
                                    for x in host.interfaces.values() if x.address) or "none"
                raise self.error(kind, i, "gateway", f"{name}: gateway {gw} is not on any of its subnets "
                                 f"({subnets}); a gateway must be a neighbour on the same link")
            host.set_gateway(gw)
        if "tcp" in spec:
            self.tcp(host, kind, i, spec["tcp"])

    def tcp(self, host: Any, kind: str, i: int, table: Any) -> None:
        """[[host]] tcp = { rto_min = "1s" }: the defaults of the host's TCP connections."""
        name = host.name
        if not isinstance(table, dict):
            raise self.error(kind, i, "tcp", f"{name}: tcp must be a table like {{ rto_min = \"1s\" }}")
        for key, value in table.items():
            if key not in TCP_KEYS:
                raise self.error(kind, i, "tcp", f"{name}: tcp: unknown key {key!r} (valid keys: "
                                 f"{', '.join(sorted(TCP_KEYS))}){_suggest(key, TCP_KEYS)}", needle=key)
            try:
                ns = parse_time(value)
            except ValueError as exc:
                raise self.error(kind, i, "tcp", f"{name}: tcp: {key}: {exc}", needle=key) from None
            if not 0 < ns <= 120 * NS_PER_S:
                raise self.error(kind, i, "tcp", f"{name}: tcp: rto_min must be more than 0 and at most "
                                 f"120s (Linux's TCP_RTO_MAX), got {value!r}", needle=key)
            host.tcp.defaults.min_rto = ns

    def link(self, net: Network, i: int, spec: Any) -> None:
        what = f"[[link]] #{i + 1}"
        self.check_keys("link", i, spec, what)
        ends = spec.get("endpoints")
        if not (isinstance(ends, list) and len(ends) == 2 and all(isinstance(e, str) for e in ends)):
            raise self.error("link", i, "endpoints", f"{what}: endpoints must be two strings like "
                             "[\"client:eth0\", \"r1:eth0\"] (or a switch's name)")
        resolved = []
        for end in ends:
            node_name, _, ifname = end.partition(":")
            node = net.nodes.get(node_name)
            if node is None:
                raise self.error("link", i, "endpoints", f"{what}: no node named {node_name!r} (nodes: "
                                 f"{', '.join(sorted(net.nodes)) or 'none'}){_suggest(node_name, net.nodes)}",
                                 needle=node_name)
            if getattr(node, "kind", "") == "switch":
                resolved.append(node)
                continue
            if not ifname:
                raise self.error("link", i, "endpoints", f"{what}: say which interface of {node_name} "
                                 f"(\"{node_name}:IFACE\"; it has {', '.join(node.interfaces) or 'none'})",
                                 needle=end)
            if ifname not in node.interfaces:
                raise self.error("link", i, "endpoints", f"{what}: {node_name} has no interface {ifname!r} "
                                 f"(it has {', '.join(node.interfaces) or 'none'})"
                                 f"{_suggest(ifname, node.interfaces)}", needle=end)
            if (node_name, ifname) in net._ends:
                raise self.error("link", i, "endpoints", f"{what}: {end} is already connected by another link; "
                                 "use a [[switch]] to put more than two interfaces on one segment", needle=end)
            resolved.append(end)
        if len(resolved) == 2 and all(isinstance(e, str) for e in resolved):
            a = net.host(resolved[0].partition(":")[0]).interfaces[resolved[0].partition(":")[2]]
            b = net.host(resolved[1].partition(":")[0]).interfaces[resolved[1].partition(":")[2]]
            if a.address and b.address and (a.network, a.prefixlen) != (b.network, b.prefixlen):
                raise self.error("link", i, "endpoints", f"{what}: {ends[0]} ({a.cidr}) and {ends[1]} ({b.cidr}) "
                                 "are not in the same subnet; the two ends of a link need addresses in one "
                                 "subnet, e.g. 10.0.12.1/30 and 10.0.12.2/30")
        params: dict[str, Any] = {}
        for key in LINK_PARAM_KEYS:
            if key in spec:
                params[key] = self.param("link", i, key, spec[key])
        cost = spec.get("cost")
        if cost is not None:
            ok = _good_cost(cost) or (isinstance(cost, list) and len(cost) == 2 and all(map(_good_cost, cost)))
            if not ok:
                raise self.error("link", i, "cost", f"{what}: cost must be a finite number >= 0, or two numbers "
                                 f"[there, back] for the two directions (got {cost!r})")
            cost = tuple(float(c) for c in cost) if isinstance(cost, list) else float(cost)
        name = spec.get("name")
        if name is not None and (not isinstance(name, str) or any(l.name == name for l in net.links)):
            raise self.error("link", i, "name", f"{what}: link names must be unique strings (got {name!r})")
        net.connect(resolved[0], resolved[1], cost=cost, name=name, **params)

    def param(self, kind: str, i: int, key: str, value: Any) -> Any:
        try:
            return link_param(key, value)
        except ValueError as exc:
            raise self.error(kind, i, key, str(exc)) from None

    def check_segments(self, net: Network) -> None:
        """Every interface on one switched segment must share a subnet."""
        for sw in (n for n in net.nodes.values() if isinstance(n, Switch)):
            seen: dict[tuple[int, int], str] = {}
            for i, link in enumerate(net.links):
                for end in link.ends():
                    if getattr(end, "switch", None) is sw:
                        other = link.other(end)
                        iface = getattr(other, "iface", None)
                        if iface is not None and iface.address:
                            seen.setdefault((iface.network, iface.prefixlen), f"{other.node_name}:{iface.name}")
            if len(seen) > 1:
                names = "; ".join(f"{who} in {ipaddress.IPv4Network(net_)}" for net_, who in seen.items())
                line = self.loc.line("switch", next(i for i, s in self.items("switch") if s.get("name") == sw.name))
                raise TopologyError(self.path, line, f"switch {sw.name} joins interfaces of different subnets "
                                    f"({names}); one switched segment is one subnet")

    def route(self, net: Network, i: int, spec: Any) -> None:
        what = f"[[route]] #{i + 1}"
        self.check_keys("route", i, spec, what)
        node_name = spec.get("node")
        node = net.nodes.get(node_name) if isinstance(node_name, str) else None
        if node is None or getattr(node, "kind", "") == "switch":
            raise self.error("route", i, "node", f"{what}: node {node_name!r} is not a host or router "
                             f"(have: {', '.join(sorted(h.name for h in net.hosts))})"
                             f"{_suggest(str(node_name), [h.name for h in net.hosts])}")
        prefix = spec.get("prefix")
        try:
            network = ipaddress.IPv4Network(prefix)
        except (ValueError, TypeError) as exc:
            hint = ""
            if isinstance(prefix, str):
                try:
                    hint = f"; did you mean {ipaddress.IPv4Network(prefix, strict=False)}?"
                except ValueError:
                    pass
            raise self.error("route", i, "prefix", f"{what}: prefix {prefix!r} is not a network like "
                             f"\"10.0.3.0/24\" ({exc}){hint}") from None
        via, dev = spec.get("via"), spec.get("dev")
        if via is None and dev is None:
            raise self.error("route", i, None, f"{what}: give via = \"GATEWAY\" (and/or dev = \"IFACE\")")
        if dev is not None and dev not in node.interfaces:
            raise self.error("route", i, "dev", f"{what}: {node_name} has no interface {dev!r} "
                             f"(it has {', '.join(node.interfaces)})")
        metric = spec.get("metric", 0)
        if not isinstance(metric, int) or metric < 0:
            raise self.error("route", i, "metric", f"{what}: metric must be a whole number >= 0")
        try:
            if via is not None:
                ipaddress.IPv4Address(via)
            node.add_route(str(network), via, dev, metric)
        except ValueError as exc:
            raise self.error("route", i, "via", f"{what}: {exc}") from None

    def event(self, net: Network, topo: Topology, i: int, spec: Any) -> None:
        what = f"[[event]] #{i + 1}"
        self.check_keys("event", i, spec, what)
        if "at" not in spec:
            raise self.error("event", i, None, f"{what}: say when, with at = \"2s\"")
        t = self.time("event", i, "at", spec["at"])
        actions = [k for k in ("down", "up", "link", "ping", "traceroute") if k in spec]
        params = {k: self.param("event", i, k, v) for k, v in spec.items() if k in LINK_PARAM_KEYS}
        if len(actions) != 1:
            raise self.error("event", i, None, f"{what}: give exactly one of down = NODE-OR-LINK, up = ..., "
                             "link = LINK with new parameters (loss, delay, ...), ping = {...}, traceroute = {...}")
        action = actions[0]
        if params and action != "link":
            raise self.error("event", i, None, f"{what}: link parameters ({', '.join(params)}) go with "
                             "link = \"NODE:IFACE\" (the link attached there)")
        if action in ("down", "up"):
            target = spec[action]
            if target in net.nodes:
                fn = net.node_down if action == "down" else net.node_up
                net.at(t, fn, target)
            else:
                link = self.find_link(net, i, action, target)
                fn = net.link_down if action == "down" else net.link_up
                net.at(t, fn, link)
            topo.events.append((t, f"{target} {action}"))
        elif action == "link":
            link = self.find_link(net, i, "link", spec["link"])
            if not params:
                raise self.error("event", i, "link", f"{what}: say what changes, e.g. loss = 0.2 or delay = \"50ms\"")
            net.at(t, lambda link=link, params=params: net.set_link(link, **params))
            topo.events.append((t, f"link {link.name} changes"))
        else:
            self.traffic(net, topo, i, action, spec[action], t)

    def find_link(self, net: Network, i: int, key: str, target: Any):
        try:
            return net.link(str(target))
        except KeyError:
            raise self.error("event", i, key, f"{target!r} is neither a node nor a link (name a node like "
                             "\"r2\", a link by its name, or by one of its ends like \"r1:eth1\")"
                             f"{_suggest(str(target), net.nodes)}") from None

    def traffic(self, net: Network, topo: Topology, i: int, action: str, spec: Any, t: int) -> None:
        valid = PING_KEYS if action == "ping" else TRACE_KEYS
        if not isinstance(spec, dict):
            raise self.error("event", i, action, f"{action} = {{ from = \"client\", to = \"server\" }}")
        for key in spec:
            if key not in valid:
                raise self.error("event", i, action, f"{action}: unknown key {key!r} (valid keys: "
                                 f"{', '.join(sorted(valid))}){_suggest(key, valid)}")
        src, dst = spec.get("from"), spec.get("to")
        if src not in {h.name for h in net.hosts}:
            raise self.error("event", i, action, f"{action}: from = {src!r} is not a host or router "
                             f"(have: {', '.join(sorted(h.name for h in net.hosts))})")
        try:
            dst_addr = net.address_of(str(dst))
        except ValueError as exc:
            raise self.error("event", i, action, f"{action}: to = {dst!r}: {exc}") from None
        host = net.host(src)

        def say(line: str, who: str = src) -> None:
            self.out(f"[{net.now / 1e9:9.6f}s {who}] {line}")

        if action == "ping":
            count = spec.get("count", 4)
            size = spec.get("size", 56)
            if not isinstance(count, int) or count < 1 or not isinstance(size, int) or not 0 <= size <= 65507:
                raise self.error("event", i, action, "ping: count must be >= 1 and size from 0 to 65507")
            interval = self.time("event", i, action, spec.get("interval", "1s"))
            net.at(t, lambda: net.spawn(ping(host, dst_addr, count=count, size=size, interval=interval, out=say)))
        else:
            hops = spec.get("max_hops", 30)
            net.at(t, lambda: net.spawn(traceroute(host, dst_addr, max_hops=hops, name_of=net.name_of, out=say)))
        topo.events.append((t, f"{action} from {src} to {dst}"))
