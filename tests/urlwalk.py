"""Find every URL pattern of the project (HTML and API alike), so isolation
tests cover routes nobody remembered to list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "w/<slug:slug>/members/<int:member_id>/role/"
    name: str | None

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in _PARAM.finditer(self.template)]

    def fill(self, values: dict[str, str]) -> str:
        return "/" + _PARAM.sub(lambda m: values[m.group("name")], self.template)


def _walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield Route(prefix + str(pattern.pattern), pattern.name)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, ""))
