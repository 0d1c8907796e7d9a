"""The CLI's start-up: `andon --help` against `python -c pass`, both as fresh processes."""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = {"small": 7, "full": 21}


def _andon() -> list[str]:
    """The installed console script next to this interpreter (else on PATH)."""
    beside = Path(sys.executable).parent / "andon"
    found = str(beside) if beside.exists() else shutil.which("andon")
    if found is None:
        raise SystemExit("no `andon` console script: run `uv sync` first")
    return [found]


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _time(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU: steadier than wall time on a busy machine)."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu() - cpu


def main(size: str) -> None:
    """Print one JSON line: median wall time of `andon --help` and of `python -c pass`."""
    ours_cmd = [*_andon(), "--help"]
    base_cmd = [sys.executable, "-c", "pass"]
    _time(ours_cmd)  # warm the file cache once; it is not counted
    ours: list[tuple[float, float]] = []
    base: list[tuple[float, float]] = []
    for _ in range(ROUNDS[size]):  # interleaved, so a busy moment hits both alike
        ours.append(_time(ours_cmd))
        base.append(_time(base_cmd))
    ours_s, base_s = (statistics.median(w for w, _ in runs) for runs in (ours, base))
    ours_cpu, base_cpu = (statistics.median(c for _, c in runs) for runs in (ours, base))
    print(
        json.dumps(
            {
                "bench": "cli", "size": size, "ours_s": round(ours_s, 4),
                "baseline": "python -c pass", "baseline_s": round(base_s, 4),
                "ratio": round(base_s / ours_s, 3), "overhead_s": round(ours_s - base_s, 4),
                "ours_cpu_s": round(ours_cpu, 4), "baseline_cpu_s": round(base_cpu, 4),
                "command": "andon --help", "rounds": ROUNDS[size],
            }
        )
    )  # fmt: skip
