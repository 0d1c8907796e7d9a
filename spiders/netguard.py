"""Where a source's requests may go: its own hosts, never an internal address (no SSRF).

A crawl follows URLs it did not choose: links and sitemap entries in pages, `Location`
headers, pagination URLs in API answers. Each of them could point the crawler at the operator's
own network (a database port, a cloud metadata service at 169.254.169.254). So:

- **at load** (`check_entry_addresses`): a sources entry whose URLs name a loopback, private,
  link-local, multicast or otherwise non-public address — in any spelling: `[::1]`,
  `0x7f000001`, `2130706433`, `localhost` — is refused unless it says `allow_private = true`;
- **at request time** (`NetGuardMiddleware`, first of the downloader middlewares, so before
  robots.txt is fetched): every request, redirects included, must go to one of the source's own
  hosts (those its entry names, its kind's API host `api_base`, and the kind's `allowed_hosts`),
  and — unless the source allows private addresses — to a host whose *resolved* address is
  public. Resolution goes through the reactor's resolver, whose cache the download then uses,
  so a name cannot be checked as public and fetched as private a moment later (within Scrapy's
  DNS cache lifetime).

With `allow_private = true` a source may reach the private address it names, and still no
other host or port: remote content cannot steer it anywhere else.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request

log = logging.getLogger(__name__)

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
# Names that resolve on the machine or its network, whatever DNS says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")


def literal_ip(host: str) -> IP | None:
    """The address a host spells literally — including the forms `inet_aton` reads
    (`0x7f000001`, `2130706433`, `0177.0.0.1`, `127.1`) — or None for a name."""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefxABCDEFX." for c in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def internal_kind(ip: IP) -> str | None:
    """Why an address is not a public one ("loopback", "private", ...), or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "private", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def named_internal(host: str) -> str | None:
    """Why a host as written names an internal address (no DNS lookup), or None."""
    host = host.lower().rstrip(".")
    ip = literal_ip(host)
    if ip is not None:
        kind = internal_kind(ip)
        return f"{kind} address {ip}" if kind else None
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return f"local name {host!r}"
    return None


def entry_urls(entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, URL) for every http(s) URL a sources entry holds, lists included."""
    for key, value in entry.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.lower().startswith(("http://", "https://")):
                yield key, item


def check_entry_addresses(entry: dict[str, Any]) -> None:
    """Refuse an entry naming an internal address unless it has `allow_private = true`."""
    if entry.get("allow_private") is True:
        return
    for key, url in entry_urls(entry):
        host = urlsplit(url).hostname or ""
        if why := named_internal(host):
            raise ValueError(
                f"`{key}` = {url!r} points at a {why}; a source reaches a private network only "
                "with `allow_private = true`"
            )


# -- the allowed origins of one source ---------------------------------------------------------

Origin = tuple[str, int | None]  # (host without "www.", port; None = the scheme's default)


def origin_of(url: str) -> Origin | None:
    """The (host, port) a URL goes to; a default port is None (http and https both go)."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if port is not None and port == DEFAULT_PORTS.get(parts.scheme):
        port = None
    return host.removeprefix("www."), port


def allowed_origins(spider: Any) -> frozenset[Origin]:
    """The source's own hosts: every URL of its entry, its kind's API host and `allowed_hosts`."""
    source = spider.source
    urls: list[str] = [u for _k, u in entry_urls({"url": source.url, **source.options})]
    if source.base_url:
        urls.append(source.base_url)
    api_base = getattr(spider, "api_base", "") or ""
    if isinstance(api_base, str) and api_base:
        urls.append(api_base)
    urls.extend(getattr(spider, "allowed_hosts", ()) or ())
    return frozenset(o for u in urls if (o := origin_of(u)) is not None)


def origin_allowed(origin: Origin, allowed: Iterable[Origin]) -> bool:
    host, port = origin
    return any(h == host and p == port for h, p in allowed)


class NetGuardMiddleware:
    """Refuses (IgnoreRequest) a request to a host the source does not own or to an internal address.

    Counted in `andon/netguard/offsite` and `andon/netguard/internal`; the spider's errback
    reports the refusal (an error for the source's own pages, a warning for detail pages).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._allowed: frozenset[Origin] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        spider: Any = self.crawler.spider  # an andon spider: it carries its Source
        if getattr(spider, "source", None) is None:
            return
        if self._allowed is None:
            self._allowed = allowed_origins(spider)
        parts = urlsplit(request.url)
        origin = origin_of(request.url)
        if origin is None or not origin_allowed(origin, self._allowed):
            self.crawler.stats.inc_value("andon/netguard/offsite")
            raise IgnoreRequest(
                f"{parts.netloc or request.url!r} is not one of this source's hosts "
                "(a link, redirect or sitemap entry pointed there)"
            )
        if spider.source.allow_private:
            return
        host = (parts.hostname or "").rstrip(".")
        why = named_internal(host) or await self._resolves_internal(host)
        if why:
            self.crawler.stats.inc_value("andon/netguard/internal")
            raise IgnoreRequest(
                f"{host!r} is a {why}; set `allow_private = true` on the source to crawl it"
            )

    async def _resolves_internal(self, host: str) -> str | None:
        """Why the address a name resolves to is internal (resolved as the download will be)."""
        try:
            address = await self.resolve(host)
        except Exception:
            return None  # the download reports the DNS failure itself
        ip = literal_ip(address)
        kind = internal_kind(ip) if ip is not None else None
        return f"name resolving to the {kind} address {ip}" if kind else None

    async def resolve(self, host: str) -> str:
        """The address the download will connect to: the reactor's (Scrapy's caching) resolver."""
        from twisted.internet import reactor

        resolver: Any = reactor  # typed by its zope interfaces, which mypy misreads
        return str(await maybe_deferred_to_future(resolver.resolve(host)))
