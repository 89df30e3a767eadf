from minternet.transport.tcp.hystart import HyStart

MS = 1_000_000


def test_exits_when_the_round_minimum_rtt_grows_by_more_than_an_eighth():
    h = HyStart()
    snd_nxt = 1000
    # Round 1: RTT 40 ms.
    assert not any(h.on_ack(ack, snd_nxt, 40 * MS) for ack in range(0, 900, 100))
    # Round 2 starts when an ACK passes 1000; RTTs still 40 ms -> stay in slow start.
    snd_nxt = 3000
    assert not any(h.on_ack(ack, snd_nxt, 40 * MS) for ack in range(1000, 2000, 100))
    # Round 3: the queue builds, every RTT is 46 ms (> 40 + max(4, 40/8) = 45 ms).
    snd_nxt = 7000
    results = [h.on_ack(ack, snd_nxt, 46 * MS) for ack in range(3000, 4000, 100)]
    assert results[-1] and h.exited


def test_small_increase_and_few_samples_do_not_exit():
    h = HyStart()
    for ack in range(0, 900, 100):
        h.on_ack(ack, 1000, 40 * MS)
    assert not any(h.on_ack(ack, 3000, 44 * MS) for ack in range(1000, 2000, 100))  # +4 ms < eta 5 ms
    h2 = HyStart()
    for ack in range(0, 900, 100):
        h2.on_ack(ack, 1000, 40 * MS)
    assert not any(h2.on_ack(ack, 3000, 80 * MS) for ack in range(1000, 1700, 100))  # only 7 samples
