"""EDNS(0) as a server answers it (RFC 6891 6-7, with RFC 3225's DO bit, RFC 5001's NSID and
RFC 7873 / RFC 9018 cookies): what the OPT record of a response says, and how big a UDP answer may be.
RFC 8906 lists what a compliant server must answer; tests/application/dns/test_edns.py probes each.

- No OPT in the request: none in the response, UDP answers at most 512 bytes (RFC 1035 4.2.1).
- An OPT: the response carries one, version 0, our payload size, DO copied, the other flags
  clear (RFC 6891 6.1.4), unknown options ignored and not echoed (6.1.2); UDP answers up to the
  client's payload size, but no more than ours and no less than 512 (6.2.5).
- A query with no question and a COOKIE: NOERROR with an empty answer and our server cookie, if
  we make cookies (RFC 7873 5.4, "Querying for a Server Cookie"; BIND does so).
- A version above 0: BADVERS, with an OPT of version 0 and nothing else (6.1.3).
- Two OPT records, one elsewhere than in the additional section or owned by another name than the
  root: FORMERR (6.1.1); a COOKIE option of a bad length: FORMERR (RFC 7873 5.2.2).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ...wire.dns import DNSMessage, Edns, EdnsOption, EdnsOptionCode, Opcode, Rcode, edns_error, make_response
from . import cookie as cookies

EDNS_PAYLOAD = 1232  # DNS Flag Day 2020: fits a 1280-byte IPv6 MTU; BIND's max-udp-size since 9.16.9
MIN_PAYLOAD = 512  # RFC 6891 6.2.5: a smaller advertised size is treated as 512
EDNS_VERSION = 0


class EdnsResponder:
    """The EDNS part of a server. ``nsid``: what to answer an NSID request with (None: no NSID);
    ``cookie_secret``: 16 bytes to make and check server cookies with (None: no cookies);
    ``now``: the time in seconds (since the epoch on a real host) for cookie timestamps."""

    def __init__(self, max_payload: int = EDNS_PAYLOAD, nsid: bytes | None = None,
                 cookie_secret: bytes | None = None, now: Callable[[], float] | None = None,
                 stats: dict[str, int] | None = None) -> None:
        if not MIN_PAYLOAD <= max_payload <= 65535:
            raise ValueError(f"EDNS payload size {max_payload}: 512 to 65535")
        if cookie_secret is not None and len(cookie_secret) != 16:
            raise ValueError("a cookie secret is 16 bytes (RFC 9018 4.2: SipHash-2-4 takes a 128-bit key)")
        self.max_payload = max_payload
        self.nsid = nsid
        self.cookie_secret = cookie_secret
        self.now = now
        self.stats = stats if stats is not None else {}

    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def reject(self, query: DNSMessage) -> DNSMessage | None:
        """The response to send instead of an answer, when the query's EDNS is wrong: FORMERR for
        a malformed OPT use or cookie, BADVERS for a version we do not speak; else None."""
        problem = edns_error(query)
        if problem is not None:
            self._count("edns_formerr")
            return make_response(query, rcode=Rcode.FORMERR)  # no OPT: the query's is not valid
        edns = query.edns
        if edns is None:
            return None
        if edns.version > EDNS_VERSION:
            self._count("edns_badvers")
            return make_response(query, rcode=Rcode.BADVERS, edns=Edns(self.max_payload, EDNS_VERSION))
        c = edns.option(EdnsOptionCode.COOKIE)
        if c is not None and not cookies.well_formed(c.data):
            self._count("cookie_formerr")
            return make_response(query, rcode=Rcode.FORMERR, edns=Edns(self.max_payload, EDNS_VERSION))
        return None

    def cookie_query(self, query: DNSMessage, client_ip: str | None) -> DNSMessage | None:
        """The answer to a query that only asks for a server cookie (RFC 7873 5.4: QUERY, no
        question, a COOKIE option): NOERROR, nothing in it but the OPT that :meth:`finish` adds.
        None for any other query, and when we make no cookies (then it is FORMERR as before)."""
        if query.questions or query.opcode != Opcode.QUERY or query.edns is None or \
                query.edns.option(EdnsOptionCode.COOKIE) is None or not self._cookies(client_ip):
            return None
        self._count("cookie_only")
        return make_response(query)

    def _cookies(self, client_ip: str | None) -> bool:
        return self.cookie_secret is not None and client_ip is not None and self.now is not None

    def finish(self, query: DNSMessage, response: DNSMessage, client_ip: str | None = None) -> tuple[DNSMessage, int]:
        """``response`` with the OPT record it must carry, and the most bytes it may take over UDP."""
        edns = query.edns
        if edns is None or edns_error(query) is not None:
            return response, MIN_PAYLOAD
        limit = min(max(edns.payload, MIN_PAYLOAD), self.max_payload)
        if response.edns is not None:  # already has its OPT (from reject)
            return response, limit
        options: list[EdnsOption] = []
        if self.nsid is not None and edns.option(EdnsOptionCode.NSID) is not None:
            options.append(EdnsOption(EdnsOptionCode.NSID, self.nsid))  # RFC 5001 2.3
        c = edns.option(EdnsOptionCode.COOKIE)
        if c is not None and self._cookies(client_ip):
            options.append(EdnsOption(EdnsOptionCode.COOKIE, self._cookie(c.data, client_ip)))
        opt = Edns(self.max_payload, EDNS_VERSION, do=edns.do, options=tuple(options))  # RFC 3225 3: DO copied
        return replace(response, additional=response.additional + (opt.record(),)), limit

    def _cookie(self, data: bytes, client_ip: str) -> bytes:
        """The COOKIE to answer with: the client cookie and a server cookie, the one the client
        sent if it is valid and fresh, else a new one (RFC 7873 5.2.3-5.2.4, RFC 9018 4.3). We do
        not require cookies, so a bad server cookie gets a new one, not BADCOOKIE."""
        assert self.cookie_secret is not None and self.now is not None
        now = int(self.now())
        client = data[:cookies.CLIENT_COOKIE_LEN]
        if len(data) > cookies.CLIENT_COOKIE_LEN:
            if cookies.check(self.cookie_secret, data, client_ip, now):
                self._count("cookie_valid")
                stamp = int.from_bytes(data[12:16], "big")
                if (now - stamp) & 0xFFFFFFFF < cookies.REFRESH_AGE:
                    return data
            else:
                self._count("cookie_bad")
        else:
            self._count("cookie_new")
        return client + cookies.server_cookie(self.cookie_secret, client, client_ip, now)
