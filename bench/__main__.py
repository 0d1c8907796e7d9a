"""Run one benchmark: `python -m bench NAME [--size small|full]` calls `bench.NAME.main(size)`."""

from __future__ import annotations

import argparse
import importlib
import re
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", help="the benchmark module in bench/, e.g. render")
    parser.add_argument("--size", choices=("small", "full"), default="small")
    args = parser.parse_args(argv)
    # Only plain module names: the argument must not reach outside the bench package.
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.name) or args.name.startswith("_"):
        parser.error(f"not a benchmark name: {args.name!r}")
    try:
        module = importlib.import_module(f"bench.{args.name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.{args.name}":
            raise
        parser.error(f"no benchmark named {args.name!r} (looked for bench/{args.name}.py)")
    if not callable(getattr(module, "main", None)):
        parser.error(f"bench/{args.name}.py has no main(size)")
    module.main(args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
