# The part of kconfiglib's API that tests/buildroot/check.py uses (kconfiglib
# 14.1.0 ships no type information and PyPI has no stubs for it).

from typing import TypeAlias

# An expression: a Symbol (n, m, y and constants are Symbols too) or an
# operator tuple, (NOT, expr) or (AND/OR/EQUAL/..., expr, expr).
Expr: TypeAlias = Symbol | tuple[int, Expr] | tuple[int, Expr, Expr]

class KconfigError(Exception): ...
class MenuNode: ...

class Symbol:
    name: str
    # "" for an unset or n bool/tristate shown as not set, else its value
    str_value: str
    # Where the symbol is defined; empty when only referenced.
    nodes: list[MenuNode]
    direct_dep: Expr

class Kconfig:
    warnings: list[str]
    syms: dict[str, Symbol]
    unique_defined_syms: list[Symbol]
    def __init__(
        self,
        filename: str = "Kconfig",
        warn: bool = True,
        warn_to_stderr: bool = True,
        encoding: str = "utf-8",
        suppress_traceback: bool = False,
    ) -> None: ...
    def load_config(
        self, filename: str | None = None, replace: bool = True, verbose: bool | None = None
    ) -> str: ...

def expr_str(expr: Expr) -> str: ...
