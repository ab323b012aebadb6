"""`companion serve wyoming` announced on the local network, the way Home Assistant finds
Wyoming services: a zeroconf (mDNS/DNS-SD) record of type `_wyoming._tcp.local.` with the
service's address and port. Home Assistant then offers it under Settings → Devices & services
as "Discovered". `--no-zeroconf` turns it off.

The addresses announced are those the service listens on: all of this computer's IPv4
addresses for 0.0.0.0, or the one given. A service on 127.0.0.1 (the default) is announced
with that address, which only programs on this computer can use; say
`--uri tcp://0.0.0.0:10300` to be found and used from the network.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."


def _host() -> str:
    """This computer's name without its domain ("" when it has none)."""
    return socket.gethostname().split(".")[0]


def default_name() -> str:
    return f"companion-{_host() or 'car'}"


def addresses_for(host: str) -> list[str]:
    """The IPv4 addresses to announce for a service listening on `host`."""
    if host in ("", "0.0.0.0", "*"):
        import ifaddr  # zeroconf's own way of listing the interfaces

        found = [
            ip.ip
            for adapter in ifaddr.get_adapters()
            for ip in adapter.ips
            if isinstance(ip.ip, str) and not ip.ip.startswith("127.")
        ]
        return found or ["127.0.0.1"]
    try:
        return [socket.gethostbyname(host)]
    except OSError:
        return []


class Announcement:
    """One zeroconf record, registered until `close()`. Create and close it on the loop."""

    def __init__(self, name: str, host: str, port: int) -> None:
        self.name, self.host, self.port = name, host, port
        self._zeroconf: Any = None
        self._info: Any = None
        self.announced_as = ""  # the instance name, once registered (may get a suffix)

    async def start(self) -> None:
        """Register; `announced_as` stays "" (with a log line saying why) when the network
        won't have it."""
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        addresses = addresses_for(self.host)
        if not addresses:
            log.warning("zeroconf: no address to announce for %s", self.host)
            return
        try:
            self._zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
            self._info = AsyncServiceInfo(
                SERVICE_TYPE,
                f"{self.name}.{SERVICE_TYPE}",
                addresses=[socket.inet_aton(a) for a in addresses],
                port=self.port,
                properties={"program": "companion"},
                server=f"{_host() or 'companion'}.local.",
            )
            await self._zeroconf.async_register_service(self._info, allow_name_change=True)
        except Exception as exc:  # no multicast here, no interface: serving goes on
            log.warning(
                "zeroconf: could not announce the service (%s); Home Assistant can still add "
                "it by host and port",
                exc,
            )
            await self.close()
            return
        self.announced_as = self._info.name.removesuffix(f".{SERVICE_TYPE}")

    async def close(self) -> None:
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is None:
            return
        try:
            if self.announced_as:
                await zeroconf.async_unregister_service(self._info)
        finally:
            await zeroconf.async_close()
