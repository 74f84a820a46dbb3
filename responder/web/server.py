"""`responder serve`: the review page on waitress, a production WSGI server (not Flask's).

Binds to `[web] host` (127.0.0.1 by default: the page speaks plain http, so
reaching it from elsewhere should go through a TLS proxy) and `[web] port`.
"""

from __future__ import annotations

import ipaddress
import logging

from waitress import create_server

from responder.config import Config
from responder.web.app import create_app

log = logging.getLogger(__name__)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(config: Config) -> None:
    """Serve the review page until interrupted."""
    app = create_app(config)
    web = config.web
    server = create_server(app, host=web.host, port=web.port, threads=web.threads,
                           ident="responder")
    if not _is_loopback(web.host):
        log.warning("the review page listens on %s over plain http: put a TLS proxy in "
                    "front of it, or bind it to 127.0.0.1", web.host)
    log.info("review page at http://%s:%s/ (Ctrl-C stops it)", web.host,
             getattr(server, "effective_port", web.port))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
