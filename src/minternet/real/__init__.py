"""The real world: the same stack and applications on the operating system's network."""
