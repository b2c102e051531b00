"""zigpy's serial layer (serialx) on a file descriptor the core granted.

The provider never opens a `/dev` path: the core opens the stick and passes
the fd. serialx picks a backend by URI scheme, so this module registers
`igloo-grant://<grant number>`: its transport is serialx's own Linux one
(termios for baud rate, parity, stop bits and RTS/CTS flow control;
`TIOCMBIS`/`TIOCMBIC` for DTR/RTS; a non-blocking fd on the event loop) with
one difference: instead of `os.open(path)` it takes a duplicate of the
granted fd. Closing the transport closes the duplicate; the grant's own fd
stays with the provider until the core revokes it.
"""

from __future__ import annotations

import os

import serialx
from serialx.descriptor_transport import DescriptorTransport
from serialx.platforms.serial_linux import LinuxSerial, LinuxSerialTransport

SCHEME = "igloo-grant://"

# grant number → the granted fd
_granted: dict[int, int] = {}


def url(grant: int) -> str:
    """The serialx URL of a granted device, for zigpy's `device.path`."""
    return f"{SCHEME}{grant}"


def hold(grant: int, fd: int) -> None:
    """Makes granted `fd` reachable as `url(grant)`."""
    _granted[grant] = fd


def release(grant: int) -> int | None:
    """Forgets a grant; returns its fd (the caller closes it)."""
    return _granted.pop(grant, None)


class GrantedSerial(LinuxSerial):
    """serialx's Linux port; opened only through `GrantedTransport`."""

    def _open(self) -> None:
        raise OSError("a granted port is opened by its transport, never by path")


class _GrantedDescriptor(DescriptorTransport):
    """The descriptor layer with `_open` taking a granted fd. serialx's POSIX
    transport calls `super()._open(path)`, so this class sits right below it
    in `GrantedTransport`'s method order."""

    async def _open(self, path: str | os.PathLike[str]) -> None:
        text = str(path).removeprefix(SCHEME)
        try:
            fd = _granted[int(text)]
        except (ValueError, KeyError):
            raise FileNotFoundError(f"no granted device {text!r}") from None
        dup = os.dup(fd)
        os.set_blocking(dup, False)
        self._fileno = dup


class GrantedTransport(LinuxSerialTransport, _GrantedDescriptor):
    """serialx's Linux transport on a duplicate of a granted fd."""

    _serial_cls = GrantedSerial


serialx.register_uri_handler(
    scheme=SCHEME,
    unique_scheme=SCHEME,
    sync_cls=GrantedSerial,
    async_transport_cls=GrantedTransport,
    strip_uri_scheme=True,
)
