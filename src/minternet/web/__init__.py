"""The live view: watch packets cross the simulated internet in a browser.

``minternet web`` starts :mod:`minternet.web.server` (aiohttp), which runs a
:class:`~minternet.web.session.Session` (the simulation, in virtual time, on a worker thread) or a
:class:`~minternet.web.session.ReplaySession` (a recorded trace) and streams its events to the
page in ``static/`` over a WebSocket.
"""
