"""What every benchmark shares: where it works, the machine line, running a job in a fresh process, tables."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("KG_BENCH_DIR", ROOT / "bench" / ".work"))


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"


def job(*args: str, checkout: Path = ROOT) -> dict:
    """Run `bench.jobs` in a fresh process, with the `kg` (and `bench`) of `checkout`: this one by default."""
    result = subprocess.run([sys.executable, "-m", "bench.jobs", *args], capture_output=True, text=True, cwd=checkout)
    if result.returncode:
        raise SystemExit(f"bench job {args} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
