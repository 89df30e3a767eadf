"""minternet: a miniature internet, simulated and real, every packet inspectable."""

__version__ = "0.1.0"
