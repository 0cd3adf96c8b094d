"""kg's benchmarks, side by side with the alternatives, measured in the same run.

    python -m bench enrich              # API cost and speed: kg vs a naive pyalex loop (local server, 200 ms)
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

from bench.common import WORK, job, machine, table


def bench_build(works: int) -> None:
    from bench.generate import make_store

    WORK.mkdir(parents=True, exist_ok=True)
    store = make_store(WORK / f"corpus-{works}.sqlite", works)
    rows = []
    kg = job("build-kg", str(store), str(WORK / f"export-{works}"))
    rows.append(["kg build (streaming)", f"{kg['triples']:,}", f"{kg['seconds']:.1f}",
                 f"{kg['triples'] / kg['seconds']:,.0f}", f"{kg['peak_rss_mb']:,.0f}"])
    if works <= int(os.environ.get("KG_BENCH_RDFLIB_MAX", "100000")):
        alt = job("build-rdflib", str(store), str(WORK / f"rdflib-{works}"))
        rows.append(["rdflib Graph() + Turtle", f"{alt['triples']:,}", f"{alt['seconds']:.1f}",
                     f"{alt['triples'] / alt['seconds']:,.0f}", f"{alt['peak_rss_mb']:,.0f}"])
        rows.append(["ratio kg / rdflib", "", f"{alt['seconds'] / kg['seconds']:.1f}× faster", "",
                     f"{kg['peak_rss_mb'] / alt['peak_rss_mb']:.2f}× the memory"])
    print(f"\n### Build and export, {works:,} works, 25 references each ({machine()})\n")
    print(table(["pipeline", "triples", "seconds", "triples/s", "peak RSS MB"], rows))
    print("\nkg writes N-Triples, Turtle, JSON-LD, GraphML, GEXF, 9 CSV + 9 Parquet tables and threads; "
          "the rdflib pipeline writes Turtle only.")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["enrich", "build", "sparql", "spark", "report", "all"], nargs="?", default="all")
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
