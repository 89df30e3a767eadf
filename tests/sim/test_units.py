import pytest

from minternet.sim.units import format_rate, format_time, parse_rate, parse_time


@pytest.mark.parametrize("text,ns", [("5ms", 5_000_000), ("1.5s", 1_500_000_000), ("250us", 250_000),
                                     ("7ns", 7), ("2min", 120_000_000_000), (" 3 ms ", 3_000_000), (0, 0)])
def test_parse_time(text, ns):
    assert parse_time(text) == ns


@pytest.mark.parametrize("bad", ["5", "5 parsecs", "ms", "-1ms", 5, "1e3ms"])
def test_parse_time_rejects_with_help(bad):
    with pytest.raises(ValueError, match="duration|unit"):
        parse_time(bad)


@pytest.mark.parametrize("text,bps", [("100Mbps", 100_000_000), ("1Gbps", 10**9), ("56kbps", 56_000),
                                      ("1.5mbps", 1_500_000)])
def test_parse_rate(text, bps):
    assert parse_rate(text) == bps


@pytest.mark.parametrize("bad", ["100", "100MB", "0Mbps", 100])
def test_parse_rate_rejects(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_format_round_trip():
    assert format_time(5_000_000) == "5ms"
    assert format_rate(100_000_000) == "100Mbps"
