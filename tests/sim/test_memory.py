"""Memory per host (issue 17): an idle host holds no random generator and no link queue, and
doing so changes none of the numbers it draws or the frames it sends."""

import random

from minternet.application.ping import ping
from minternet.runtime import NS_PER_MS, NS_PER_S
from minternet.sim import generate
from minternet.sim.lazyrandom import LazyRandom
from minternet.sim.network import Network


def draws(rng) -> list:
    return [rng.randrange(256), rng.getrandbits(128), rng.randint(32768, 60999), rng.randbytes(5),
            rng.random(), rng.randrange(1, 65536)]


def test_lazy_random_gives_the_numbers_of_random_random_across_releases():
    reference = random.Random("7/host/h1")
    expected = draws(reference) + draws(reference) + [reference.choice("abcdef")] + draws(reference)
    lazy = LazyRandom("7/host/h1")
    got = draws(lazy)
    lazy.release()
    assert lazy.released
    got += draws(lazy)  # made again from the seed, the first draws replayed
    assert not lazy.released
    lazy.release()  # active for good now: release is a no-op
    assert not lazy.released
    got += [lazy.choice("abcdef")] + draws(lazy)
    assert got == expected


def test_a_method_that_is_not_replayed_keeps_the_generator():
    reference = random.Random("s")
    lazy = LazyRandom("s")
    reference.shuffle(a := list(range(10)))
    lazy.shuffle(b := list(range(10)))
    lazy.release()
    assert not lazy.released and a == b
    assert lazy.randrange(1000) == reference.randrange(1000)


def test_many_draws_before_release_keep_the_generator():
    lazy, reference = LazyRandom("x"), random.Random("x")
    for _ in range(200):
        assert lazy.randrange(10**6) == reference.randrange(10**6)
    lazy.release()
    assert not lazy.released  # the log stopped: nothing to replay from
    assert lazy.getrandbits(64) == reference.getrandbits(64)


def test_started_idle_hosts_hold_no_generator_and_idle_links_no_queue():
    net = generate.lans(2, 20)
    net.start()
    net.run(net.now + 10 * NS_PER_MS)  # every gratuitous ARP flooded and delivered
    hosts = [h for h in net.hosts if not h.forwarding]
    assert all(h.rng.released for h in hosts)
    assert all(ch._queue is None for link in net.links for ch in (link.ab, link.ba))
    # A host that pings draws again (its ICMP identifier): the generator is made again for it.
    src, dst = hosts[1], hosts[0]
    result = net.run_app(ping(src, dst.address, count=1, timeout=NS_PER_S))
    assert result.received == 1
    assert not src.rng.released


class PlainRandom(random.Random):
    """What every host had before: a generator of its own for the whole run."""

    def release(self) -> None:
        pass


def test_the_trace_of_a_run_is_the_same_with_lazy_generators(monkeypatch):
    # The same network built twice, once with plain random.Random sources: identical frames.
    def run() -> list:
        net = Network(seed=3)
        net.add_host("a", {"eth0": "10.0.0.1/24"})
        net.add_host("b", {"eth0": "10.0.0.2/24"})
        net.connect("a:eth0", "b:eth0", delay="1ms")
        frames = []
        net.tracer.subscribe(lambda e: frames.append((e.time, e.node, e.event, e.frame)))
        net.start()
        net.run(net.now + 10 * NS_PER_MS)
        net.run_app(ping(net["a"], "10.0.0.2", count=2, timeout=NS_PER_S))
        return frames

    lazy = run()
    import minternet.sim.network as network_module
    monkeypatch.setattr(network_module, "LazyRandom", PlainRandom)
    plain = run()
    assert len(plain) > 10 and [f for f in plain if f[3]]
    assert lazy == plain


def test_an_attribute_random_random_lacks_leaves_the_source_releasable():
    lazy = LazyRandom("s")
    assert not hasattr(lazy, "no_such_method")
    lazy.release()
    assert lazy.released


def test_a_link_delay_that_is_not_a_finite_number_names_the_parameter():
    import pytest
    net = Network()
    net.add_host("a", {"eth0": "10.0.0.1/24"})
    net.add_host("b", {"eth0": "10.0.0.2/24"})
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="delay .* is not a finite number of ns"):
            net.connect("a:eth0", "b:eth0", delay=bad)


def test_a_refused_link_leaves_its_interfaces_and_switch_ports_free():
    import pytest
    net = Network()
    net.add_host("a", {"eth0": "10.0.0.1/24"})
    sw = net.add_switch("sw")
    with pytest.raises(ValueError, match="cost"):
        net.connect("a:eth0", sw, cost=float("inf"))
    with pytest.raises(ValueError, match="no node named"):
        net.connect(sw, "nobody:eth0")
    assert sw.ports == [] and net.links == []
    net.connect("a:eth0", sw, delay="1ms")
    assert [p.port_name for p in sw.ports] == ["p1"]
