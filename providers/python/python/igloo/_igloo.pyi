# Typed stubs of the extension module (src/*.rs). Checked against the built
# module by `python -m mypy.stubtest igloo._igloo` (tests/tests/python_provider.rs),
# so they cannot drift from the Rust code.

from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, final

from igloo._component import Component
from igloo.registry import Values

__all__ = [
    "EXIT_CONFIG",
    "Change",
    "ComponentError",
    "CoreError",
    "Custom",
    "Events",
    "Granted",
    "IglooError",
    "Provider",
    "Revoked",
    "TreeAvailability",
    "TreeDevice",
    "TreeEntity",
    "TreeRemoved",
    "TreeState",
    "TreeSynced",
    "_registry_source",
    "check_value",
    "components",
    "connect",
]

EXIT_CONFIG: int
"""The exit status for a wrong `[provider.config]` (78, `EX_CONFIG`)."""

class IglooError(Exception):
    """The core refused a request, or the connection to it failed or ended."""

class ComponentError(IglooError):
    """A component name components.toml does not have, or a value of the wrong kind."""

@final
class Change:
    """A change request: make the device take `values`, then confirm with `write`."""
    @property
    def device(self) -> int: ...
    @property
    def entity(self) -> int: ...
    @property
    def values(self) -> dict[str, bool | int | float | str]: ...

@final
class Custom:
    """A provider-specific command; answer with `reply_custom` or `reply_error`."""
    @property
    def request_id(self) -> int: ...
    @property
    def command(self) -> str: ...
    @property
    def body(self) -> str: ...

@final
class Granted:
    """A device the core opened for this provider; `fd` is this provider's to use and close."""
    @property
    def grant(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def fd(self) -> int: ...
    @property
    def attributes(self) -> list[tuple[str, str]]: ...

@final
class Revoked:
    """A granted device was unplugged or withdrawn: close its fd."""
    @property
    def grant(self) -> int: ...
    @property
    def reason(self) -> str: ...

@final
class CoreError:
    """An error the core reported that belongs to no pending request."""
    @property
    def code(self) -> int: ...
    @property
    def message(self) -> str: ...

@final
class TreeEntity:
    """One entity of a `TreeDevice`."""
    @property
    def name(self) -> str: ...
    @property
    def attributes(self) -> list[tuple[str, str]]: ...
    @property
    def values(self) -> dict[str, bool | int | float | str]: ...

@final
class TreeDevice:
    """Tree observation: a whole device of any provider (replaces what was known of it)."""
    @property
    def device(self) -> int: ...
    @property
    def provider(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def room(self) -> str: ...
    @property
    def available(self) -> bool: ...
    @property
    def attributes(self) -> list[tuple[str, str]]: ...
    @property
    def entities(self) -> list[TreeEntity]: ...

@final
class TreeState:
    """Tree observation: confirmed new values of one entity of any provider."""
    @property
    def device(self) -> int: ...
    @property
    def entity(self) -> str: ...
    @property
    def values(self) -> dict[str, bool | int | float | str]: ...

@final
class TreeAvailability:
    """Tree observation: a device became reachable or not."""
    @property
    def device(self) -> int: ...
    @property
    def available(self) -> bool: ...

@final
class TreeRemoved:
    """Tree observation: a device was removed by its provider."""
    @property
    def device(self) -> int: ...

@final
class TreeSynced:
    """Tree observation: the snapshot is complete."""
    @property
    def devices(self) -> int: ...

@final
class Events:
    """The events from the core, in order; ends when the core closes the connection."""
    def __aiter__(self) -> Events: ...
    def __anext__(
        self,
    ) -> Awaitable[
        Change
        | Custom
        | Granted
        | Revoked
        | CoreError
        | TreeDevice
        | TreeState
        | TreeAvailability
        | TreeRemoved
        | TreeSynced
    ]: ...

@final
class Provider:
    """The connection to the core; every request is an awaitable."""
    @property
    def config(self) -> str: ...
    @property
    def data_dir(self) -> str: ...
    @property
    def core_version(self) -> str: ...
    @property
    def dropped_components(self) -> int: ...
    def events(self) -> Events: ...
    def create_device(
        self,
        key: str,
        name: str,
        attributes: list[tuple[str, str]] | None = None,
        available: bool = True,
    ) -> Awaitable[int]: ...
    def register_entity(
        self, device: int, name: str, attributes: list[tuple[str, str]] | None = None
    ) -> Awaitable[int]: ...
    def write(
        self,
        device: int,
        entity: int,
        values: Values | Mapping[str, bool | int | float | str] | Iterable[Component[Any]],
    ) -> Awaitable[None]: ...
    def set_available(self, device: int, available: bool) -> Awaitable[None]: ...
    def remove_device(self, device: int) -> Awaitable[None]: ...
    def remove_entity(self, device: int, entity: int) -> Awaitable[None]: ...
    def observe_tree(self) -> Awaitable[None]: ...
    def request_change(
        self,
        device: int,
        entity: str,
        values: Values | Mapping[str, bool | int | float | str] | Iterable[Component[Any]],
    ) -> Awaitable[None]: ...
    def report_config_error(self, message: str, key: str | None = None) -> Awaitable[None]: ...
    def refuse_change(self, device: int, entity: int, reason: str) -> Awaitable[None]: ...
    def reply_custom(self, request_id: int, body: str) -> Awaitable[None]: ...
    def reply_error(self, request_id: int, message: str) -> Awaitable[None]: ...

def connect(name: str, version: str) -> Awaitable[Provider]: ...
def components() -> list[tuple[str, str, str | None, list[str]]]:
    """Every component of this build's registry: (name, kind, unit, variants), in id order."""

def check_value(name: str, value: object) -> bool | int | float | str:
    """The value component `name` takes, as the core holds it; ComponentError if it does not fit."""

def _registry_source() -> str:
    """The text of igloo/registry.py for this build's registry (scripts/gen-python-registry)."""
