"""The seams between the layers: the few types one layer uses to talk to another.

Anchored on gVisor's netstack (``stack/registration.go``: a transport dispatcher answering with a
disposition, transport errors delivered for the quoted flow, a route the transport keeps) and
smoltcp (``iface``: a socket processes one packet with time passed in). Nothing here knows a host.
"""

from .errors import ErrorKind, TransportError
from .observer import Observer
from .route import RouteHandle
from .seams import Disposition, LinkOutput, NetworkSender, TransportProtocol

__all__ = ["Disposition", "ErrorKind", "LinkOutput", "NetworkSender", "Observer", "RouteHandle",
           "TransportError", "TransportProtocol"]
