"""Which spider class crawls which source kind: every `JobSpider` subclass with a `kind` in `spiders/`.

A kind is one module of this package; nothing here names one. Adding `spiders/foo.py` with a
`JobSpider` subclass whose `kind = "foo"` makes `kind = "foo"` usable in the sources file.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import spiders
from spiders.base import JobSpider

# Modules of the package that hold no kind (importing them would only cost time, or pull
# optional dependencies such as Redis).
_NOT_KINDS = frozenset(
    {
        "addsource",
        "base",
        "collect",
        "distributed",
        "items",
        "middlewares",
        "probe",
        "registry",
        "runner",
        "settings",
        "sources",
        "urlkinds",
    }
)


def discover() -> dict[str, type[JobSpider]]:
    """Import every module of `spiders/` and collect its spider classes by `kind`.

    Two classes claiming one kind is a programming error and raises `RuntimeError`.
    """
    found: dict[str, type[JobSpider]] = {}
    for info in sorted(pkgutil.iter_modules(spiders.__path__), key=lambda m: m.name):
        if info.name in _NOT_KINDS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"spiders.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not (issubclass(cls, JobSpider) and cls.kind and cls.__module__ == module.__name__):
                continue
            other = found.get(cls.kind)
            if other is not None and other is not cls:
                raise RuntimeError(
                    f"kind {cls.kind!r} is claimed by {other.__module__}.{other.__name__} "
                    f"and {cls.__module__}.{cls.__name__}"
                )
            found[cls.kind] = cls
    return found


SPIDERS: dict[str, type[JobSpider]] = discover()


def spider_for(kind: str) -> type[JobSpider]:
    """The spider class of a kind; `KeyError` names the known kinds."""
    try:
        return SPIDERS[kind]
    except KeyError:
        raise KeyError(
            f"no spider for kind {kind!r}; known: {', '.join(sorted(SPIDERS))}"
        ) from None


def recognition_order() -> list[type[JobSpider]]:
    """The spider classes in the order a pasted URL is tried: specific kinds, then generic ones."""
    return sorted(SPIDERS.values(), key=lambda cls: (cls.recognition_rank, cls.kind))


def aggregator_kinds() -> frozenset[str]:
    """The kinds whose boards list many employers' jobs (`JobSpider.aggregator`)."""
    return frozenset(kind for kind, cls in SPIDERS.items() if cls.aggregator)


def keys_table() -> str:
    """The README's table of every kind's sources-file keys, from the spider classes' metadata."""
    import sys

    lines = [
        "| kind | reads | required | other keys | default schedule | e.g. `sources add` of | gives |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in sorted(SPIDERS):
        cls = SPIDERS[kind]
        doc = (sys.modules[cls.__module__].__doc__ or "").strip().split("\n")[0]
        reads = doc.split(":", 1)[0].strip().rstrip(".")
        required = "; ".join(" or ".join(f"`{k}`" for k in group) for group in cls.required)
        named = {k for group in cls.required for k in group}
        others = ", ".join(f"`{k}`" for k in sorted(cls.keys - named)) or "—"
        schedule = cls.default_schedule
        if cls.min_interval:
            schedule += f" (at most every {cls.min_interval // 3600}h)"
        derived = cls.entry_from_url(cls.example_url) if cls.example_url else None
        gives = ", ".join(f"`{k} = {_toml(v)}`" for k, v in (derived or {}).items())
        example = f"<{cls.example_url}>" if cls.example_url else "—"
        lines.append(
            f"| `{kind}` | {reads} | {required or '—'} | {others} | {schedule} | {example} "
            f"| {gives or '—'} |"
        )
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace('"', '\\"') + '"'


if __name__ == "__main__":
    print(keys_table(), end="")
