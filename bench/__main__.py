"""Run one benchmark: `python -m bench NAME [--size small|full] [--part P]` calls `bench.NAME.main(size)`.

`--part` picks one part of a benchmark that has several (its `main` takes `part`, and `PARTS`
lists them), e.g. `python -m bench scale --part listing`.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", help="the benchmark module in bench/, e.g. render")
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--part", default="all", help="a part of the benchmark (default: all)")
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
    if "part" in inspect.signature(module.main).parameters:
        parts = getattr(module, "PARTS", ("all",))
        if args.part not in parts:
            parser.error(f"--part must be one of {', '.join(parts)} for {args.name}")
        module.main(args.size, part=args.part)
    elif args.part != "all":
        parser.error(f"bench/{args.name}.py has no parts")
    else:
        module.main(args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
