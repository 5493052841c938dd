"""Small real servers on loopback standing in for systems we cannot run here."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": message_from_bytes(envelope.content, policy=policy.default),
            }
        )
        return "250 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self):
        self._inbox = _Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=port)

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def messages(self) -> list[dict]:
        return self._inbox.messages

    def bodies_to(self, address: str) -> list[str]:
        return [
            m["message"].get_body(("plain",)).get_content()
            for m in self.messages
            if address in m["to"]
        ]


class NominatimServer:
    """Answers Nominatim's /search like the real service, from a fixed gazetteer.

    ``delay`` makes it slow; ``status`` makes it fail.
    """

    def __init__(self, places: list[dict]):
        self.places = places
        self.delay = 0.0
        self.status = 200
        self.queries: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                import time

                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                outer.queries.append({"path": url.path, **query})
                time.sleep(outer.delay)
                if outer.status != 200:
                    self.send_response(outer.status)
                    self.end_headers()
                    return
                q = query.get("q", "").lower()
                found = [
                    {
                        "place_id": i,
                        "lat": str(p["lat"]),
                        "lon": str(p["lon"]),
                        "display_name": p["name"],
                        "boundingbox": [
                            str(p["lat"]),
                            str(p["lat"]),
                            str(p["lon"]),
                            str(p["lon"]),
                        ],
                    }
                    for i, p in enumerate(outer.places)
                    if q in p["name"].lower()
                ][: int(query.get("limit", 10))]
                payload = json.dumps(found).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"
