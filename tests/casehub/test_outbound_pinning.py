"""Outbound connections go to the address that was checked: the host name is
resolved once, every address it gave is checked, and the connection goes to one
of them, while the request still names the host (Host header, TLS SNI and the
certificate check)."""

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casehub.connectors import http
from casehub.connectors.base import ConfigurationError, DeliveryError

pytestmark = pytest.mark.timeout(30)


class Recorder(ThreadingHTTPServer):
    """A loopback server on 127.0.0.1 that answers 200 and records each
    request's Host header (and, over TLS, the SNI name it was sent)."""

    daemon_threads = True

    def __init__(self, tls_context=None):
        self.hosts: list[str] = []
        self.sni: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server API)
                outer.hosts.append(self.headers["Host"])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        if tls_context is not None:

            def remember(sock, name, context):
                outer.sni.append(name)

            tls_context.sni_callback = remember
            self.socket = tls_context.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def server():
    running = Recorder()
    yield running
    running.stop()


class ScriptedResolver:
    """A resolver answering from a script, one answer per call: what a DNS
    server rebinding a name between two lookups would do."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host, port):
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def test_one_lookup_and_the_connection_goes_to_its_answer(server, settings):
    settings.KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE = True
    # A second lookup would give 127.0.0.2, where nothing listens.
    resolver = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"])
    url = f"http://case.example:{server.port}/status"
    response = http.request("GET", url, timeout=5, resolve=resolver)
    assert (response.status, response.body) == (200, b"ok")
    assert resolver.calls == [("case.example", server.port)]
    assert server.hosts == [f"case.example:{server.port}"]


def test_every_address_a_name_resolves_to_is_checked_before_any_connection(
    server, settings
):
    """A name answering a public address and loopback is refused before any
    connection (and a later lookup is never made)."""
    settings.KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE = False
    resolver = ScriptedResolver(["93.184.215.14", "127.0.0.1"], ["127.0.0.1"])
    with pytest.raises(ConfigurationError, match=r"private address \(127\.0\.0\.1\)"):
        http.request(
            "GET",
            f"http://case.example:{server.port}/",
            timeout=1,
            resolve=resolver,
        )
    assert len(resolver.calls) == 1
    assert server.hosts == []


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "::1", "192.0.2.10"])
def test_a_private_answer_is_refused_when_private_addresses_are_not_allowed(
    server, settings, address
):
    settings.KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE = False
    resolver = ScriptedResolver([address])
    with pytest.raises(ConfigurationError, match="private address"):
        http.request(
            "GET", f"http://case.example:{server.port}/", timeout=1, resolve=resolver
        )
    assert server.hosts == []


def test_a_name_that_does_not_resolve_is_a_delivery_error(settings):
    def nowhere(host, port):
        raise OSError("Name or service not known")

    with pytest.raises(DeliveryError, match="Cannot resolve case.example"):
        http.request("GET", "http://case.example/", timeout=1, resolve=nowhere)


def _certificate(name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """A TLS server on loopback with a certificate for case.example, which the
    client trusts (through the standard SSL_CERT_FILE variable)."""
    cert, key = _certificate("case.example")
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    running = Recorder(context)
    yield running
    running.stop()


def test_tls_names_the_host_and_checks_its_certificate(tls_server, settings):
    settings.KNUTPUNKT_CONNECTIONS_ALLOW_PRIVATE = True
    resolver = ScriptedResolver(["127.0.0.1"])
    url = f"https://case.example:{tls_server.port}/status"
    response = http.request("GET", url, timeout=5, resolve=resolver)
    assert response.status == 200
    assert tls_server.sni == ["case.example"]
    assert tls_server.hosts == [f"case.example:{tls_server.port}"]
    # Another name at the same address: the certificate does not match it.
    with pytest.raises(DeliveryError, match="certificate"):
        http.request(
            "GET",
            f"https://other.example:{tls_server.port}/",
            timeout=5,
            resolve=resolver,
        )
    assert len(tls_server.hosts) == 1
