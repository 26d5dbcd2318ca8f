"""Forwarded headers, believed only from trusted peers.

nginx (deploy/nginx.conf) sets ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from its own
view of the client. A client that reaches gunicorn directly can send the same headers, so
they are applied (Werkzeug's ``ProxyFix``, one hop) only when the connection's peer is in
``FORWARDED_ALLOW_IPS`` (default loopback: the proxy on the same host), like gunicorn's
``forwarded_allow_ips``. From any other peer they are ignored: ``request.remote_addr`` is
the socket's peer, and session binding, rate limits and ``/metrics`` use that.
``X-Forwarded-Host`` is never read: nginx passes the client's Host as is.
"""

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware: ``ProxyFix(x_for=1, x_proto=1)`` for requests whose
    ``REMOTE_ADDR`` is in ``allowed`` (addresses or networks; ``*`` trusts every peer),
    the request untouched otherwise."""

    def __init__(self, app, allowed):
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)
        self.any = "*" in allowed
        self.networks = [ipaddress.ip_network(a, strict=False) for a in allowed if a != "*"]

    def trusted(self, address: str | None) -> bool:
        """Whether forwarded headers from the peer ``address`` are believed."""
        if self.any:
            return True
        try:
            peer = ipaddress.ip_address((address or "").split("%", 1)[0])
        except ValueError:
            return False
        if peer.version == 6 and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped
        return any(peer in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
