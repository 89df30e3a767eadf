"""The demo's stages, one module per world (see :mod:`minternet.demo.registry`)."""
