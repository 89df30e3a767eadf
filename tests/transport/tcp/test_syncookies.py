"""SYN cookies as Linux makes them (net/ipv4/syncookies.c): the MSS table, the age, the tuple, and
the options carried in the timestamp."""

import pytest

from minternet.runtime import NS_PER_MS, NS_PER_S
from minternet.transport.tcp.syncookies import SynCookies, decode_ts, encode_ts

PEER, US = ("10.0.0.2", 40000), ("10.0.0.1", 80)
MIN = 60 * NS_PER_S


def make(cookies, isn=12345, mss=1460, now=0):
    return cookies.make(PEER[0], US[0], PEER[1], US[1], isn, mss, now)


def check(cookies, cookie, isn=12345, now=0, tuple_=(PEER, US)):
    (rip, rport), (lip, lport) = tuple_
    return cookies.check(rip, lip, rport, lport, (isn + 1) % 2**32, (cookie + 1) % 2**32, now)


@pytest.mark.parametrize("mss, encoded", [(9000, 1460), (1460, 1460), (1459, 1440), (1440, 1440),
                                          (1300, 1300), (1299, 536), (100, 536)])
def test_the_peers_mss_is_rounded_down_to_linuxs_table(mss, encoded):
    cookies = SynCookies(b"secret")
    cookie, got = make(cookies, mss=mss)
    assert got == encoded and check(cookies, cookie) == encoded


def test_a_cookie_is_good_this_minute_and_the_next_only():
    cookies = SynCookies(b"secret")
    cookie, _ = make(cookies, now=5 * MIN + 1)
    assert check(cookies, cookie, now=5 * MIN + 2) == 1460
    assert check(cookies, cookie, now=6 * MIN + 59 * NS_PER_S) == 1460
    assert check(cookies, cookie, now=7 * MIN) == 0
    assert check(cookies, cookie, now=4 * MIN) == 0  # from the future


def test_a_cookie_is_bound_to_its_tuple_its_isn_and_the_secret():
    cookies = SynCookies(b"secret")
    cookie, _ = make(cookies)
    assert check(cookies, cookie, tuple_=(("10.0.0.3", 40000), US)) == 0
    assert check(cookies, cookie, tuple_=((PEER[0], 40001), US)) == 0
    assert check(cookies, cookie, isn=12345 + 1000) == 0
    assert check(SynCookies(b"other"), cookie) == 0
    # Above the MSS index the low bits are a keyed hash: no nearby number is a cookie.
    assert all(check(cookies, (cookie + d) % 2**32) == 0 for d in range(1, 2000))


def test_the_options_in_the_timestamp_round_trip_and_never_run_ahead_of_the_clock():
    now = 123_456 * NS_PER_MS
    for wscale, sack in [(7, True), (0, False), (None, True), (14, False)]:
        ts = encode_ts(now, wscale, sack)
        assert ts <= now // NS_PER_MS and now // NS_PER_MS - ts < 64
        assert decode_ts(ts) == (wscale, sack)
