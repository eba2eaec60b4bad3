"""Graph's ``fields=`` syntax: ``id,from{id,name},comments.filter(stream).limit(5).summary(true){id}``.

:func:`parse` turns the expression into :class:`FieldSpec` trees (modifiers keep their
raw argument text, so ``insights.metric(a,b)`` keeps ``"a,b"``); :func:`unparse` writes
one back, which nested paging links need.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import GraphError


@dataclass
class FieldSpec:
    """One requested field: its name, its ``.modifier(arg)`` calls and its sub-fields."""

    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    children: list[FieldSpec] | None = None


def _syntax_error(expr: str) -> GraphError:
    return GraphError(f"Syntax error \"Expected end of string instead of \"{expr[:20]}\".\" "
                      f"at character 0: {expr[:60]}", 2500)


def parse(expr: str | None) -> list[FieldSpec] | None:
    """Parse a fields expression; None when the parameter is absent or empty."""
    if expr is None or not expr.strip():
        return None
    specs, pos = _parse_list(expr, 0)
    if pos != len(expr):
        raise _syntax_error(expr[pos:])
    return specs


def _parse_list(expr: str, pos: int) -> tuple[list[FieldSpec], int]:
    specs: list[FieldSpec] = []
    while pos < len(expr):
        spec, pos = _parse_field(expr, pos)
        specs.append(spec)
        while pos < len(expr) and expr[pos] == " ":
            pos += 1
        if pos < len(expr) and expr[pos] == ",":
            pos += 1
            continue
        break
    return specs, pos


def _parse_name(expr: str, pos: int) -> tuple[str, int]:
    while pos < len(expr) and expr[pos] == " ":
        pos += 1
    start = pos
    while pos < len(expr) and (expr[pos].isalnum() or expr[pos] == "_"):
        pos += 1
    if start == pos:
        raise _syntax_error(expr[pos:])
    return expr[start:pos], pos


def _parse_field(expr: str, pos: int) -> tuple[FieldSpec, int]:
    name, pos = _parse_name(expr, pos)
    spec = FieldSpec(name)
    while pos < len(expr) and expr[pos] == ".":
        modifier, pos = _parse_name(expr, pos + 1)
        if pos >= len(expr) or expr[pos] != "(":
            raise _syntax_error(expr[pos:])
        depth, start = 1, pos + 1
        pos += 1
        while pos < len(expr) and depth:
            depth += {"(": 1, ")": -1}.get(expr[pos], 0)
            pos += 1
        if depth:
            raise _syntax_error(expr[start:])
        spec.modifiers[modifier] = expr[start:pos - 1]
    if pos < len(expr) and expr[pos] == "{":
        children, pos = _parse_list(expr, pos + 1)
        if pos >= len(expr) or expr[pos] != "}":
            raise _syntax_error(expr[pos:])
        spec.children = children
        pos += 1
    return spec, pos


def unparse(specs: list[FieldSpec] | None) -> str:
    """The expression for ``specs`` (the inverse of :func:`parse`)."""
    if not specs:
        return ""
    parts = []
    for spec in specs:
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.modifiers.items())
        if spec.children:
            text += "{" + unparse(spec.children) + "}"
        parts.append(text)
    return ",".join(parts)

