"""The one exception a codec raises."""


class MalformedPacket(ValueError):
    """Bytes that are not a valid packet of the layer that tried to decode them.

    ``reason`` is a short, stable, machine-readable tag (``"truncated"``, ``"bad-checksum"``,
    ``"bad-version"``, ...) used for drop counters and traces; ``layer`` names the codec.
    """

    def __init__(self, layer: str, reason: str, detail: str = "") -> None:
        self.layer = layer
        self.reason = reason
        self.detail = detail
        super().__init__(f"{layer}: {reason}" + (f" ({detail})" if detail else ""))

    @property
    def drop_reason(self) -> str:
        """The reason a host counts and traces the drop under: ``bad-checksum`` (corruption on
        the way, shared by every layer) or ``malformed-<reason>``."""
        return "bad-checksum" if self.reason == "bad-checksum" else f"malformed-{self.reason}"
