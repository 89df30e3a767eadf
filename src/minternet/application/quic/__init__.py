"""QUIC on minternet's UDP: aioquic's sans-IO QuicConnection driven by a host's sockets and clock
(:mod:`.endpoint`), made byte-deterministic for a seed in a simulation (:mod:`.determinism`)."""
