"""A browser on another mDNS host of the test LAN, on python-zeroconf.

``browse TYPE... --seconds N``: browses the service types for N seconds and
prints one JSON line per resolved service: type, name, server, port,
addresses, properties.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceListener, Zeroconf


class Printer(ServiceListener):
    """Resolves every service it hears of and prints it once."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str, str | None, int | None]] = set()

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._resolve(zc, type_, name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._resolve(zc, type_, name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        print(json.dumps({"type": type_, "name": name, "removed": True}), flush=True)

    def _resolve(self, zc: Zeroconf, type_: str, name: str) -> None:
        info = zc.get_service_info(type_, name, timeout=3000)
        if info is None:
            return
        key = (type_, name, info.server, info.port)
        if key in self.seen:
            return
        self.seen.add(key)
        props = {
            k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()
        }
        print(
            json.dumps(
                {
                    "type": type_,
                    "name": name,
                    "server": info.server,
                    "port": info.port,
                    "addresses": info.parsed_addresses(),
                    "properties": props,
                }
            ),
            flush=True,
        )


def browse(types: list[str], seconds: float) -> None:
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    printer = Printer()
    browser = ServiceBrowser(zc, types, printer)
    time.sleep(seconds)
    browser.cancel()
    zc.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("browse")
    b.add_argument("types", nargs="+")
    b.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    browse(args.types, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
