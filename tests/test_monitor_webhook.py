"""The outbound-URL guard of a monitor's webhook (trainer.monitor.webhook, through notify.post and
Monitor.set_webhook): no address inside the network, checked after resolving and again when sent, the
checked address is the one called, no redirect, one deadline for the whole call, a plain failure."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trainer.monitor import monitor as monitors
from trainer.monitor import notify

ALERT = {"direction": "up", "label": "negative", "group": "Banking", "bucket_start": "2026-05-04",
         "share": 0.6, "baseline_share": 0.3}  # fmt: skip
INSIDE = [
    "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service (link-local)
    "http://127.0.0.1:6379/",  # a local Redis
    "http://[::1]:22/",  # ssh on IPv6 loopback
    "http://localhost:8080/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (carrier NAT)
    "http://0.0.0.0:80/",
    "http://[::]/",
    "http://224.0.0.1/",  # multicast
    "http://[ff02::1]/",
    "http://240.0.0.1/",  # reserved
    "http://[fe80::1]/",
    "http://[fc00::7]/",  # unique local
    "http://[::ffff:127.0.0.1]:6379/",  # IPv4-mapped loopback
    "http://[::ffff:10.0.0.1]/",
    "https://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
]


class Handler(BaseHTTPRequestHandler):
    hits: list[tuple[str, str, str]] = []  # (method, path, Host header)
    stop = threading.Event()

    def _hit(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Handler.hits.append((self.command, self.path, self.headers.get("Host", "")))

    def do_POST(self):  # noqa: N802 - http.server's name
        self._hit()
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/internal")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/drip":  # one byte a second: every read succeeds, the whole answer takes 30 s
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                if Handler.stop.wait(1.0):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
        else:
            self.send_response(500 if self.path == "/fail" else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    do_GET = do_POST  # noqa: N815 - a followed redirect arrives as GET

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """A local receiver on 127.0.0.1; yields its port. Its threads are told to stop when the test ends."""
    Handler.hits, Handler.stop = [], threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        Handler.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def monitor(tmp_path):
    settings = monitors.Settings("news", "unused", "headline", "published", owner="ana")
    return monitors.create(tmp_path / "runs", settings)


def fake_resolver(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """socket.getaddrinfo answering for the names in `answers` (each call takes the next answer, the last
    one repeating), the real one for anything else; returns the names it was asked, in order."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            asked.append(host)
            address = answers[host][min(len(asked) - 1, len(answers[host]) - 1)]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port or 80))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("url", INSIDE)
def test_an_address_inside_the_network_is_refused_when_set_and_when_sent(monitor, monkeypatch, url):
    monkeypatch.delenv("INSIGHT_WEBHOOK_ALLOW", raising=False)
    with pytest.raises(monitors.MonitorError, match="local or private address"):
        monitor.set_webhook(url)
    assert monitor.settings.webhook is None
    said = notify.post(url, [ALERT], "news")  # a webhook stored before this check: refused when sent
    assert said is not None and "local or private address" in said


def test_a_public_looking_name_that_resolves_inside_is_refused_when_set_and_when_sent(
    monitor, receiver, monkeypatch
):
    monkeypatch.delenv("INSIGHT_WEBHOOK_ALLOW", raising=False)
    fake_resolver(monkeypatch, {"hooks.example.org": ["10.1.2.3"]})
    with pytest.raises(monitors.MonitorError, match="local or private address"):
        monitor.set_webhook("https://hooks.example.org/services/T0")
    # public when set, then the name points at the server itself (DNS rebinding): refused when sent
    asked = fake_resolver(monkeypatch, {"hooks.example.org": ["93.184.216.34", "127.0.0.1"]})
    monitor.set_webhook(f"http://hooks.example.org:{receiver}/hook")
    said = notify.post(monitor.settings.webhook, [ALERT], "news")
    assert asked == ["hooks.example.org", "hooks.example.org"]
    assert said is not None and "local or private address" in said and Handler.hits == []


def test_the_checked_address_is_the_one_called_with_the_hosts_name_in_the_host_header(receiver, monkeypatch):
    monkeypatch.setenv("INSIGHT_WEBHOOK_ALLOW", "hooks.internal")
    # allowed by name, resolving to the receiver; every later answer points elsewhere, and is never asked
    asked = fake_resolver(monkeypatch, {"hooks.internal": ["127.0.0.1", "10.66.66.66"]})
    assert notify.post(f"http://hooks.internal:{receiver}/hook", [ALERT], "news") is None
    assert asked == ["hooks.internal"]
    assert Handler.hits == [("POST", "/hook", f"hooks.internal:{receiver}")]


def test_the_allow_list_admits_only_what_it_names(monitor, receiver, monkeypatch):
    monkeypatch.setenv("INSIGHT_WEBHOOK_ALLOW", f" 127.0.0.1:{receiver} ")
    monitor.set_webhook(f"http://127.0.0.1:{receiver}/hook")
    with pytest.raises(monitors.MonitorError, match="INSIGHT_WEBHOOK_ALLOW"):
        monitor.set_webhook(f"http://127.0.0.1:{receiver % 65535 + 1}/hook")
    with pytest.raises(monitors.MonitorError, match="local or private"):
        monitor.set_webhook("http://10.0.0.1/hook")
    monkeypatch.setenv("INSIGHT_WEBHOOK_ALLOW", "10.20.0.0/16,[::1]")
    monitor.set_webhook("http://10.20.30.40:8123/hook")
    monitor.set_webhook("http://[::1]:9000/hook")
    assert monitor.settings.webhook == "http://[::1]:9000/hook"


def test_only_http_and_https_addresses_without_credentials(monitor):
    for url in (
        "file:///etc/passwd",
        "ftp://example.org/x",
        "gopher://example.org/",
        "http://",
        "http://a:b",
    ):
        with pytest.raises(monitors.MonitorError, match="http"):
            monitor.set_webhook(url)
    with pytest.raises(monitors.MonitorError, match="user name or password"):
        monitor.set_webhook("https://user:secret@example.org/hook")


def test_a_redirect_is_a_failure_and_is_not_followed(receiver, monkeypatch):
    monkeypatch.setenv("INSIGHT_WEBHOOK_ALLOW", f"127.0.0.1:{receiver}")
    said = notify.post(f"http://127.0.0.1:{receiver}/redirect", [ALERT], "news")
    assert said is not None and "302" in said and "not followed" in said
    assert [path for _, path, _ in Handler.hits] == ["/redirect"], "the redirect's target is never asked"


def test_a_slow_drip_receiver_is_cut_at_the_calls_deadline(receiver, monkeypatch):
    monkeypatch.setenv("INSIGHT_WEBHOOK_ALLOW", f"127.0.0.1:{receiver}")
    monkeypatch.setenv("INSIGHT_WEBHOOK_SECONDS", "2")
    started = time.monotonic()
    said = notify.post(f"http://127.0.0.1:{receiver}/drip", [ALERT], "news")
    elapsed = time.monotonic() - started
    assert said == "the webhook could not be reached"
    assert elapsed < 12, f"the whole call took {elapsed:.1f} s (its answer would take 30 s)"
    assert Handler.hits == [("POST", "/drip", f"127.0.0.1:{receiver}")]


def test_the_owner_is_told_a_plain_sentence_never_the_systems_error(receiver, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("INSIGHT_WEBHOOK_ALLOW", "127.0.0.1")
    said = notify.post(f"http://127.0.0.1:{closed}/hook", [ALERT], "news")
    assert said == "the webhook could not be reached"
    assert not any(word in said.lower() for word in ("refused", "errno", "111", "urlopen", "connection"))
    assert notify.post(f"http://127.0.0.1:{receiver}/fail", [ALERT], "news") == "the webhook answered 500"
    assert notify.post(f"http://127.0.0.1:{receiver}/hook", [ALERT], "news") is None
