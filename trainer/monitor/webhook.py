"""Where a webhook may go, and the one call that goes there: the outbound-URL guard.

A webhook's address is chosen by whoever owns the monitor, and the server calls it, so it must not become
a way into the server's own network. The host is resolved and every address it names is checked (when the
webhook is set, and again each time it is called): loopback, private, link-local, shared, multicast,
reserved and unspecified addresses are refused, IPv4 and IPv6 alike (an IPv4 address inside an IPv6 one
is checked as the IPv4 it holds). The call connects to the address that was checked (a name that resolves
elsewhere a second later changes nothing), sends the host's name in the Host header and TLS's SNI, follows
no redirect, and gives up when the whole call (connect, send, read) passes its deadline. What the owner is
told is one plain sentence; why a connection failed goes to the server's log only.

| setting | default | what it does |
|---|---|---|
| INSIGHT_WEBHOOK_ALLOW | (none) | internal receivers a webhook may call, comma-separated: a host (`hooks.internal`), a host and port (`127.0.0.1:8123`, `[::1]:8123`) or a network (`10.1.0.0/16`) |
| INSIGHT_WEBHOOK_SECONDS | 5 | the deadline of one call, connecting, sending and reading together |
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from trainer.i18n import tr

ALLOW = "INSIGHT_WEBHOOK_ALLOW"
SECONDS = "INSIGHT_WEBHOOK_SECONDS"
DEFAULT_SECONDS = 5.0
STATUS_LINE = 8192  # bytes read at most for the answer's status line
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
log = logging.getLogger(__name__)


class Refused(ValueError):
    """A webhook address the guard will not call; the message says why, in one sentence."""


class Unreachable(OSError):
    """The call failed (no connection, no answer in time, not HTTP); the owner is told no more than that."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written, lower case, no brackets
    port: int
    path: str  # path and query, as sent

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def parse(url: str) -> Target:
    """An http:// or https:// address with a host; anything else is refused."""
    try:
        parts = urlsplit(str(url).strip())
        port = parts.port
    except ValueError:
        raise Refused(tr("A webhook is an http:// or https:// address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise Refused(tr("A webhook is an http:// or https:// address."))
    if parts.username is not None or parts.password is not None:
        raise Refused(tr("A webhook address cannot hold a user name or password."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(c.isspace() or not c.isprintable() for c in path):
        raise Refused(tr("A webhook is an http:// or https:// address."))
    host = parts.hostname.rstrip(".").lower()
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _unwrapped(ip: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo's client), else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            return inner
    return ip


def forbidden(ip: Address) -> bool:
    """Whether an address is inside a network (loopback, private, link-local, ...) rather than public."""
    for one in {ip, _unwrapped(ip)}:
        if (one.is_loopback or one.is_private or one.is_link_local or one.is_multicast or one.is_reserved
                or one.is_unspecified or not one.is_global):  # fmt: skip
            return True
        if isinstance(one, ipaddress.IPv6Address) and one.is_site_local:
            return True
    return False


def _allowances() -> list[tuple[str, object, int | None]]:
    """INSIGHT_WEBHOOK_ALLOW as (kind, host or network, port or None): kind is "net" or "host"."""
    found: list[tuple[str, object, int | None]] = []
    for entry in os.environ.get(ALLOW, "").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if "/" in entry:
            try:
                found.append(("net", ipaddress.ip_network(entry, strict=False), None))
            except ValueError:
                log.warning("%s: %r is not a network; ignored", ALLOW, entry)
            continue
        host, port = entry, None
        if entry.startswith("["):  # [v6] or [v6]:port
            host, _, rest = entry[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
        elif entry.count(":") == 1:
            host, _, number = entry.partition(":")
            port = int(number) if number.isdigit() else None
        found.append(("host", host.rstrip("."), port))
    return found


def allowed(target: Target, ip: Address) -> bool:
    """Whether the admins allowed this host (or address, or network), at this port, in INSIGHT_WEBHOOK_ALLOW."""
    names = {target.host, str(ip), str(_unwrapped(ip))}
    for kind, what, port in _allowances():
        if port is not None and port != target.port:
            continue
        if kind == "net" and (ip in what or _unwrapped(ip) in what):  # type: ignore[operator]
            return True
        if kind == "host" and what in names:
            return True
    return False


def check(url: str) -> tuple[Target, Address]:
    """The address to call for `url`: its host resolved, every address it names public or allowed."""
    target = parse(url)
    refused = Refused(
        tr("{host} cannot be a webhook: it was not found, or it is a local or private address (whoever runs "
           "Insight can allow an internal receiver with {setting}).", host=target.host, setting=ALLOW)
    )  # fmt: skip
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise refused from None
    addresses = []
    for *_, sockaddr in found:
        try:
            addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]))
        except ValueError:
            raise refused from None
    if not addresses or any(forbidden(ip) and not allowed(target, ip) for ip in addresses):
        raise refused
    return target, addresses[0]


def deadline_seconds() -> float:
    raw = os.environ.get(SECONDS, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_SECONDS
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        log.warning("%s=%r is not a number of seconds (0 to 600); using %s", SECONDS, raw, DEFAULT_SECONDS)
        return DEFAULT_SECONDS
    return seconds


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the webhook's deadline passed")
    return left


class _Pinned(http.client.HTTPConnection):
    """A connection to the checked address, whatever the host's name resolves to now."""

    def __init__(self, target: Target, ip: Address, deadline: float) -> None:
        super().__init__(target.host, target.port, timeout=_left(deadline))
        self.ip, self.deadline = str(ip), deadline

    def connect(self) -> None:
        self.sock = socket.create_connection((self.ip, self.port), _left(self.deadline))


class _PinnedTLS(_Pinned):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(_left(self.deadline))  # the handshake is one operation: bounded by what is left
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def _status(sock: socket.socket, deadline: float) -> int:
    """The status of the answer, read from its first line however slowly it comes, until the deadline."""
    line = b""
    while b"\n" not in line:
        sock.settimeout(_left(deadline))
        got = sock.recv(512)
        if not got or len(line) > STATUS_LINE:
            raise Unreachable("no HTTP status line")
        line += got
    parts = line.split(b"\n", 1)[0].split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise Unreachable("not an HTTP answer")
    return int(parts[1])


def send(url: str, body: bytes, seconds: float | None = None) -> int:
    """POST `body` (JSON) to `url` once, checked again now; the answer's status (a redirect is not followed).

    Raises Refused for an address the guard refuses, Unreachable for any other failure."""
    target, ip = check(url)
    deadline = time.monotonic() + (seconds or deadline_seconds())
    kind = _PinnedTLS if target.tls else _Pinned
    try:
        connection = kind(target, ip, deadline)
        try:
            connection.connect()
            connection.sock.settimeout(_left(deadline))
            connection.request("POST", target.path, body, {"Content-Type": "application/json",
                               "User-Agent": "Insight-monitor", "Connection": "close"})  # fmt: skip
            return _status(connection.sock, deadline)
        finally:
            connection.close()
    except (OSError, ssl.SSLError, http.client.HTTPException, ValueError) as exc:
        log.info("webhook %s://%s:%s failed: %s", target.scheme, target.host, target.port, exc)
        raise Unreachable(str(exc)) from None
