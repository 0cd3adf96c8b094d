"""kg's benchmarks, side by side with the alternatives, measured in the same run.

    python -m bench enrich              # API cost and speed: kg vs a naive pyalex loop (local server, 200 ms)
    python -m bench follow              # what following 100 papers, 20 authors and 5 topics costs a day
    python -m bench build [--works N]   # build/export of a generated corpus: kg vs rdflib's default store
    python -m bench sparql [--works N]  # the query library: Oxigraph (kg) vs rdflib's default store
    python -m bench spark [--spark-works N]  # kg snapshot build throughput in Spark local mode
    python -m bench report [--report-works N]  # the interactive report's load time in headless Chromium
    python -m bench all

Each prints a Markdown table; bench/RESULTS.md records a run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import ROOT, WORK, job, machine, table

BASELINE = "d997d9c"
"""The last commit whose `kg build` ran the per-record transforms (`from_record`, `work_lines`, ...)."""


def _baseline_checkout() -> Path | None:
    """A checkout of BASELINE beside the corpora (git worktree), or None where there is no git history."""
    folder = WORK / f"kg-{BASELINE}"
    if not (folder / "kg").exists():
        made = subprocess.run(["git", "worktree", "add", "--force", "--detach", str(folder), BASELINE],
                              cwd=ROOT, capture_output=True, text=True)
        if made.returncode:
            print(f"(no baseline: git worktree add {BASELINE} failed: {made.stderr.strip()})")
            return None
    return folder


def _old_export_removed(export: Path) -> float:
    """Seconds until the previous export, which `kg build` leaves to a detached process, is gone: the next
    job is timed on a quiet disk."""
    started = time.perf_counter()
    while list(export.glob(".kg-old-*")):
        time.sleep(0.05)
    return time.perf_counter() - started


def bench_build(works: int) -> None:
    from bench.generate import make_store
    from kg.columns import folder_beside

    WORK.mkdir(parents=True, exist_ok=True)
    store = make_store(WORK / f"corpus-{works}.sqlite", works)
    rows = []
    export = WORK / f"export-{works}"
    shutil.rmtree(folder_beside(store), ignore_errors=True)
    shutil.rmtree(export, ignore_errors=True)
    kept = job("keep-columns", str(store))  # as `kg enrich` does once it has stored the records
    first = job("build-kg", str(store), str(export))  # into an empty folder
    kg = job("build-kg", str(store), str(export))  # the records' columns read back; the export replaced
    removal = _old_export_removed(export)

    def row(name: str, figures: dict) -> list:
        peak = figures["peak_rss_mb"] + figures.get("peak_worker_rss_mb", 0)
        return [name, f"{figures['triples']:,}", f"{figures['seconds']:.1f}",
                f"{figures['triples'] / figures['seconds']:,.0f}", f"{peak:,.0f}"]

    rows.append(["kg enrich's last step: every record parsed into the columns kept beside the store", "",
                 f"{kept['seconds']:.1f}", f"{kept['parsed']:,} records", f"{kept['peak_rss_mb']:,.0f}"])
    rows.append(row("kg build, first (after that enrichment, empty folder; all formats)", first))
    rows.append(row("kg build again (records unchanged: their columns read back; all formats)", kg))
    parse = job("parse-oxigraph", str(export / "kg.nt"))
    rows.append(row("Oxigraph parsing the kg.nt it wrote (nothing else)", parse))
    for name, figures in (("first", first), ("again", kg)):
        rows.append([f"ratio kg build ({name}) / Oxigraph parse (issue #27: ≤ 3×)", "",
                     f"{figures['seconds'] / parse['seconds']:.1f}×", "", ""])
    lean = job("build-kg", str(store), str(WORK / f"export-{works}-nt"), "nt")
    rows.append(row("kg build --formats nt (N-Triples, tables, threads)", lean))
    baseline = _baseline_checkout() if works <= int(os.environ.get("KG_BENCH_BASELINE_MAX", "100000")) else None
    if baseline:
        old = job("build-kg", str(store), str(WORK / f"export-{works}-{BASELINE}"), checkout=baseline)
        rows.append(row(f"kg build per record ({BASELINE}, all formats)", old))
        rows.append(["ratio columnar / per record", "", f"{old['seconds'] / kg['seconds']:.1f}× faster", "", ""])
    if works <= int(os.environ.get("KG_BENCH_RDFLIB_MAX", "100000")):
        alt = job("build-rdflib", str(store), str(WORK / f"rdflib-{works}"))
        rows.append(row("rdflib Graph() + Turtle", alt))
        rows.append(["ratio columnar / rdflib", "", f"{alt['seconds'] / kg['seconds']:.1f}× faster", "",
                     f"{(kg['peak_rss_mb'] + kg['peak_worker_rss_mb']) / alt['peak_rss_mb']:.2f}× the memory"])
    print(f"\n### Build and export, {works:,} works, 25 references each ({machine()})\n")
    print(table(["pipeline", "triples", "seconds", "triples/s", "peak RSS MB (process + largest worker)"], rows))
    print("\nkg writes N-Triples, Turtle, JSON-LD, GraphML, GEXF, 11 CSV + 11 Parquet tables, threads and the "
          "reference-manager files; the rdflib pipeline writes Turtle only.")
    print(f"\nThe rebuild's previous export was removed by a detached process {removal:.1f} s after kg build "
          "returned (waited for before the next job).")
    for name, figures in (("first", first), ("again", kg)):
        phases = figures["phases"] + [["done (the previous export moved aside for removal)", figures["seconds"]]]
        print(f"\nPhases of the build ({name}; each runs until the next begins):\n")
        print(table(["phase", "seconds", "share"],
                    [[phase, f"{end - start:.1f}", f"{(end - start) / figures['seconds']:.0%}"]
                     for (phase, start), (_, end) in zip(phases, phases[1:])]))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["enrich", "follow", "build", "sparql", "spark", "report", "all"], nargs="?",
                        default="all")
    parser.add_argument("--no-naive", action="store_true", help="enrich: skip the naive loop (about 20 minutes)")
    parser.add_argument("--works", type=int, default=100_000, help="generated corpus size for build")
    parser.add_argument("--sparql-works", type=int, default=100_000,
                        help="generated corpus size for sparql (about 84 triples per work)")
    parser.add_argument("--report-works", type=int, default=5_000, help="generated corpus size for report")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per query on rdflib")
    parser.add_argument("--spark-works", type=int, default=1_000_000, help="generated snapshot size for spark")
    parser.add_argument("--spark-references", type=int, default=10, help="references per generated work for spark")
    parser.add_argument("--spark-cores", type=int, default=None, help="Spark local[N] (default: all cores)")
    args = parser.parse_args()
    if args.which in ("enrich", "all"):
        from bench.enrichment import bench_enrich
        bench_enrich(naive=not args.no_naive)
    if args.which in ("follow", "all"):
        from bench.following import bench_follow
        bench_follow()
    if args.which in ("build", "all"):
        bench_build(args.works)
    if args.which in ("sparql", "all"):
        from bench.sparql import bench_sparql
        bench_sparql(args.sparql_works, args.timeout)
    if args.which in ("spark", "all"):
        from bench.spark import bench_spark
        bench_spark(args.spark_works, args.spark_references, args.spark_cores)
    if args.which in ("report", "all"):
        from bench.report import bench_report
        bench_report(args.report_works)


if __name__ == "__main__":
    main()
