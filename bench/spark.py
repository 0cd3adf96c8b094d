"""`kg snapshot build` throughput in Spark local mode on a generated snapshot, and its projection.

The generated snapshot has the real layout (updated_date partitions of gzip
JSON Lines and a manifest). Throughput is works per second per core over the
whole job (read, transform, distinct, sort, write N-Triples and Parquet).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from pathlib import Path

SNAPSHOT_WORKS = 250_000_000  # OpenAlex works in the snapshot, order of magnitude
SEMOPENALEX_DAYS = (3, 4)     # SemOpenAlex's published conversion time on 16 vCPU (works projection)
SEMOPENALEX_TRIPLES = 26.4e9  # SemOpenAlex's transform: 26.4B triples in 1-2 days on 16 vCPU (issue #19)
SEMOPENALEX_TRIPLE_DAYS = (1, 2)
SPARK_MEMORY = "8g"           # driver memory in local mode: the whole job's


def make_snapshot(root: Path, works: int, references: int, parts: int = 16) -> Path:
    from bench.generate import records

    folder = root / "data" / "works"
    if (folder / "manifest").exists():
        return root
    entries, handles = [], []
    for part in range(parts):
        path = folder / f"updated_date=2026-{part % 12 + 1:02d}-01" / f"part_{part:03d}.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        handles.append((path, gzip.open(path, "wt", encoding="utf-8", compresslevel=1)))
    for index, record in enumerate(records(works, references, seed=11)):
        handles[index % parts][1].write(json.dumps(record) + "\n")
    for path, handle in handles:
        handle.close()
        entries.append({"url": "s3://openalex/data/works/" + path.relative_to(folder).as_posix(),
                        "meta": {"content_length": path.stat().st_size}})
    (folder / "manifest").write_text(json.dumps({"entries": entries}))
    return root


def bench_spark(works: int, references: int, cores: int | None = None) -> None:
    from bench.common import WORK, machine, table
    from kg.snapshot import build_snapshot

    root = make_snapshot(WORK / f"snapshot-{works}", works, references)
    cores = cores or os.cpu_count() or 1
    phases: list[str] = []

    def progress(message: str) -> None:
        phases.append(message)
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    counts = build_snapshot(root, WORK / f"snapshot-out-{works}", master=f"local[{cores}]", memory=SPARK_MEMORY,
                            progress=progress)
    seconds = time.perf_counter() - started
    per_core = counts["works"] / seconds / cores
    projection_days = SNAPSHOT_WORKS / (per_core * 16) / 86400
    print(f"\n### kg snapshot build, Spark local[{cores}] with {SPARK_MEMORY}, {works:,} generated works, "
          f"{references} references each ({machine()})\n")
    print(table(["works", "triples", "seconds", "works/s", "works/s per core",
                 f"projected: {SNAPSHOT_WORKS / 1e6:.0f}M works on 16 cores", "SemOpenAlex, 16 vCPU"],
                [[f"{counts['works']:,}", f"{counts['triples']:,}", f"{seconds:,.0f}",
                  f"{counts['works'] / seconds:,.0f}", f"{per_core:,.0f}", f"{projection_days:.2f} days",
                  f"{SEMOPENALEX_DAYS[0]}–{SEMOPENALEX_DAYS[1]} days"]]))
    triples_per_core = counts["triples"] / seconds / cores
    theirs = [SEMOPENALEX_TRIPLES / (days * 86400 * 16) for days in SEMOPENALEX_TRIPLE_DAYS]
    print("\n" + table(["triples/s per core, kg (Spark local)", "SemOpenAlex's transform, triples/s per vCPU "
                        f"({SEMOPENALEX_TRIPLES / 1e9:.1f}B triples in {SEMOPENALEX_TRIPLE_DAYS[0]}–"
                        f"{SEMOPENALEX_TRIPLE_DAYS[1]} days on 16 vCPU)", "ratio"],
                       [[f"{triples_per_core:,.0f}", f"{theirs[1]:,.0f}–{theirs[0]:,.0f}",
                         f"{triples_per_core / theirs[0]:.1f}–{triples_per_core / theirs[1]:.1f}×"]]))
    print("\nPhases (time since the job began reading records):\n")
    print("\n".join(f"* {phase}" for phase in phases))
    print("\nThe projection assumes linear scaling per core, which a shuffle-heavy job (distinct + sort of every "
          "triple) does not quite reach; it ignores cluster start-up and S3 reads.")
