"""Whether an address can be listened on: asked before a service starts, for a clear message.

Takes a host and a port; returns why they cannot be listened on (taken by another process, not
an address of this machine), or None. Does not hold the port: a race with another process
starting between the probe and the service is left to the service's own error.
"""

from __future__ import annotations

import socket


def port_taken(host: str, port: int) -> str | None:
    """Why the address cannot be listened on (taken, not ours), or None: said before uvicorn tries."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


__all__ = ["port_taken"]
