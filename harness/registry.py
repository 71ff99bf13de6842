"""Name -> constructor registries (methods, models, datasets, metrics).

Adding an entry is one new file in the owning package plus one decorator: each package's
``__init__`` imports every module it contains, so registration happens on import.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable, Generic, Iterator, TypeVar

from sherpa_bench.harness.errors import UserError

T = TypeVar("T")


class UnknownNameError(UserError, KeyError):
    """A registry lookup failed; the message lists what exists and the nearest names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    obj: T
    description: str


class Registry(Generic[T]):
    """A named collection of constructors. ``kind`` names the collection in messages."""

    def __init__(self, kind: str, package: str) -> None:
        self.kind = kind
        self._package = package
        self._entries: dict[str, Entry[T]] = {}
        self._loaded = False

    def register(self, name: str, description: str | None = None) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            if name in self._entries and self._entries[name].obj is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            text = description or _first_line(getattr(obj, "__doc__", None)) or ""
            self._entries[name] = Entry(name, obj, text)
            return obj

        return decorate

    def _load(self) -> None:
        # Import every module of the owning package once, so that their decorators run.
        if self._loaded:
            return
        self._loaded = True
        package = importlib.import_module(self._package)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self._package}.{module.name}")

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def entry(self, name: str) -> Entry[T]:
        self._load()
        if name not in self._entries:
            known = sorted(self._entries)
            near = difflib.get_close_matches(name, known, n=3)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{hint} Known {self.kind}s: {', '.join(known)}. "
                f"`sherpa-bench list {self.kind}s` describes each."
            )
        return self._entries[name]

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        self._load()
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def names(self) -> list[str]:
        return [e.name for e in self]


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0].strip() if text and text.strip() else ""


METHODS: Registry = Registry("method", "sherpa_bench.methods")
MODELS: Registry = Registry("model", "sherpa_bench.models")
DATASETS: Registry = Registry("dataset", "sherpa_bench.datasets")
METRICS: Registry = Registry("metric", "sherpa_bench.metrics")
PROMPTS: Registry = Registry("prompt", "sherpa_bench.prompts")
