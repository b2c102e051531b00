"""The base classes of the generated component classes (`igloo.registry`).

A component object is a checked value of one component: its constructor hands the value
to the Rust SDK (`igloo._igloo.check_value`, the same check `Provider.write` does on a
dict), so a wrong kind raises `igloo.ComponentError` naming the component and what it takes.
"""

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from igloo._igloo import check_value

__all__ = ["Component", "Marker"]

T = TypeVar("T")


class Component(Generic[T]):
    """One component's value; each subclass is one entry of components.toml."""

    name: ClassVar[str]
    """The component's name, as in components.toml and the HTTP API."""
    id: ClassVar[int]
    """Its id: its position in components.toml (and on the wire)."""
    kind: ClassVar[str]
    """marker, bool, int, float, string, color or enum."""
    unit: ClassVar[str | None]
    """Its unit (SI, or Home Assistant's for the device class), or None."""
    variants: ClassVar[tuple[str, ...]]
    """An enum's variant names, in wire order; empty for the other kinds."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = cast(T, check_value(self.name, value))

    @property
    def value(self) -> T:
        """The value, as the core will hold it (an int given for a float is a float)."""
        return self._value

    @classmethod
    def of(cls, values: Mapping[str, object]) -> T | None:
        """This component's value in `values` (a `Change`'s), checked; None when absent."""
        value = values.get(cls.name)
        if value is None:
            return None
        return cast(T, check_value(cls.name, value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._value!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Component):
            return NotImplemented
        other_value: Any = other.value
        return type(self) is type(other) and bool(self._value == other_value)

    def __hash__(self) -> int:
        return hash((self.name, self._value))


class Marker(Component[Literal[True]]):
    """A marker component: it has no value (it says what an entity is, or, written, acts)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
