"""The transport layer: UDP port demultiplexing (TCP comes with its own issue)."""
