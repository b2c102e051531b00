"""Checks the installed `igloo.registry` against components.toml (the path given) and the
extension module's own table (`igloo.components()`): every component, in id order, with its
kind, unit, variants and a docstring that says them (tests/tests/python_provider.rs).
Prints each mismatch; exits 1 when there is one."""

import sys
import tomllib
import typing

import igloo
from igloo import registry


def main() -> int:
    with open(sys.argv[1], "rb") as f:
        entries: list[dict[str, typing.Any]] = tomllib.load(f)["component"]
    problems: list[str] = []
    if len(registry.ALL) != len(entries):
        problems.append(f"{len(registry.ALL)} classes, {len(entries)} entries in the toml")
    module = [(n, k, u, list(v)) for n, k, u, v in igloo.components()]
    classes = [(c.name, c.kind, c.unit, list(c.variants)) for c in registry.ALL]
    if module != classes:
        problems.append("ALL differs from igloo.components()")
    hints = typing.get_type_hints(registry.Values)
    if list(hints) != [e["name"] for e in entries]:
        problems.append(f"Values keys {list(hints)}")
    for i, (cls, e) in enumerate(zip(registry.ALL, entries, strict=False)):
        want = (e["name"], i, e["kind"], e.get("unit"), tuple(e.get("variants", ())))
        have = (cls.name, cls.id, cls.kind, cls.unit, cls.variants)
        if have != want or cls.__name__ != e["name"] or getattr(registry, cls.name) is not cls:
            problems.append(f"{cls.__name__}: {have} ≠ {want}")
        doc = " ".join((cls.__doc__ or "").split())
        said = [" ".join(e["desc"].split()), f"kind {e['kind']}"]
        said += [f"unit {e['unit']}"] if "unit" in e else []
        said += [", ".join(e.get("variants", []))]
        problems += [f"{cls.name}'s docstring lacks {s!r}" for s in said if s not in doc]
        if e["kind"] == "enum":
            literal = typing.get_args(hints[e["name"]])
            if literal != tuple(e["variants"]):
                problems.append(f"Values[{e['name']!r}] is Literal{list(literal)}")
    for p in problems:
        print(p)
    print(f"{len(entries)} components checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
