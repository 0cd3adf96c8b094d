"""The `kg` command line: one subcommand per pipeline stage, plus `kg run` for all of them.

User mistakes (a missing file, a bad flag value, an unreachable server) end
with one line naming the input and what to do, and exit code 2; a spent
budget exits 3 with everything fetched kept. Tracebacks are for bugs only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kg import __version__
from kg.errors import EXIT_USER_ERROR, BudgetExhausted, KgError
from kg.feeds import FeedResult, read_inputs
from kg.ids import last_segment
from kg.sources import DEFAULT_URL, HF_API_URL

FIGURE_FORMATS = ["svg", "png", "pdf"]  # what `kg render --format` offers (Graphviz writes many more)

def stdout() -> Console:
    """Tables for people; feed and OpenAlex text is never read as rich markup."""
    return Console(markup=False, highlight=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


@contextlib.contextmanager
def progress_display() -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A progress bar per phase on a terminal; one line per phase otherwise (CI logs)."""
    console = stderr()
    if not console.is_terminal:
        def plain(phase: str, total: int) -> Callable[[int], None]:
            if total:
                console.print(f"{phase}: {total}")
            return lambda _n: None
        yield plain
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bars:
        def bar(phase: str, total: int) -> Callable[[int], None]:
            task = bars.add_task(phase, total=total)
            return lambda n: bars.advance(task, n)
        yield bar


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        stderr().print("kg: interrupted; everything fetched so far is stored, rerun the same command to continue")
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USER_ERROR)
    except KgError as error:
        stopped = "stopped" if isinstance(error, BudgetExhausted) else "error"
        stderr().print(f"kg: {stopped}: {error}", markup=False)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        stderr().print("kg: interrupted; everything fetched so far is stored, rerun the same command to continue")
        sys.exit(130)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def cli() -> None:
    """Turn research feeds into a citation and author knowledge graph (via OpenAlex)."""


# -- shared options ------------------------------------------------------------------

def feed_options(command: Callable) -> Callable:
    command = click.argument("inputs", nargs=-1)(command)
    command = click.option("--hf-date", "hf_dates", multiple=True, metavar="YYYY-MM-DD",
                           help="Also read the Hugging Face daily papers of this date (live API).")(command)
    command = click.option("--hf-url", default=HF_API_URL, show_default=True, envvar="KG_HF_URL",
                           help="Base URL of the Hugging Face API (env KG_HF_URL); HF_TOKEN is sent when set.")(command)
    command = click.option("--year", type=int, default=None,
                           help="Year for page dates shown without one (default: this year).")(command)
    return command


def read_feed(inputs: tuple[str, ...], hf_dates: tuple[str, ...], hf_url: str, year: int | None,
              show_warnings: bool = True) -> FeedResult:
    if not inputs and not hf_dates:
        raise KgError("no feed given: name files, URLs or --hf-date YYYY-MM-DD")
    days = {}
    if hf_dates:
        from kg.sources.huggingface import HuggingFace

        client = HuggingFace(hf_url, os.environ.get("HF_TOKEN") or None)
        try:
            days = {f"hf-daily-{day}": client.daily_papers(day) for day in map(check_date, hf_dates)}
        finally:
            client.close()
    result = read_inputs(list(inputs), year, documents=days)
    console = stderr()
    for warning in result.warnings if show_warnings else ():
        console.print(f"warning: {warning}")
    return result


def check_date(value: str, option: str = "--hf-date") -> str:
    import datetime as dt

    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise KgError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def source_options(command: Callable) -> Callable:
    command = click.option("--snapshot", type=click.Path(path_type=Path), default=None,
                           help="Read OpenAlex records from this folder of JSON Lines instead of the API.")(command)
    command = click.option("--openalex-url", envvar="KG_OPENALEX_URL", default=DEFAULT_URL, show_default=True,
                           help="OpenAlex API base URL (env KG_OPENALEX_URL).")(command)
    command = click.option("--api-key", envvar="OPENALEX_API_KEY", default=None,
                           help="OpenAlex API key (env OPENALEX_API_KEY). Never written anywhere.")(command)
    command = click.option("--rate", type=click.FloatRange(min=0.1), default=None,
                           help="OpenAlex requests per second at most (default: the plan's, 10 keyless, 30 with a "
                                "key; kg slows down further whenever OpenAlex throttles).")(command)
    command = click.option("--no-hf", is_flag=True,
                           help="Do not ask Hugging Face for the arXiv ids of titles (on by default with the API).")(command)
    command = click.option("--budget", type=click.FloatRange(min=0), default=None,
                           help="Stop before spending more than this many USD of OpenAlex credits.")(command)
    command = click.option("--workers", type=click.IntRange(1, 16), default=4, show_default=True,
                           help="Concurrent requests for independent batches.")(command)
    command = click.option("--citing", type=click.IntRange(min=0), default=0, show_default=True,
                           help="Also fetch up to N works citing each feed paper.")(command)
    command = click.option("--depth", type=click.IntRange(1, 3), default=1, show_default=True,
                           help="Hops of references to follow (2 = references of references).")(command)
    command = click.option("--refresh-after", type=click.FloatRange(min=0), default=3, show_default=True,
                           metavar="DAYS", help="Look again for pending papers, and fetch again feed works OpenAlex "
                                                "had without references or abstract, once this many days have "
                                                "passed.")(command)
    return command


def out_options(command: Callable) -> Callable:
    command = click.option("--out", type=click.Path(path_type=Path), default=Path("exports"), show_default=True,
                           help="Output folder.")(command)
    command = click.option("--store", type=click.Path(path_type=Path), default=None,
                           help="Enrichment store (default: OUT/kg-store.sqlite).")(command)
    return command


def store_path(out: Path, store: Path | None) -> Path:
    return store or out / "kg-store.sqlite"


# -- kg feed --------------------------------------------------------------------------

@cli.command()
@feed_options
@click.option("--json", "as_json", is_flag=True, help="Write JSON Lines to stdout.")
def feed(inputs, hf_dates, hf_url, year, as_json) -> None:
    """Read feeds (saved Daily Papers pages, papers JSON, id/title lists) and list their papers."""
    result = read_feed(inputs, hf_dates, hf_url, year, show_warnings=not as_json)
    skipped = [n for n in result.warnings if n.skipped]
    if as_json:
        for paper in result.papers:
            click.echo(json.dumps(paper.to_json(), ensure_ascii=False, sort_keys=True))
        for notice in result.warnings:  # what was left out or dropped, one record each
            click.echo(json.dumps(notice.to_json(), ensure_ascii=False, sort_keys=True))
    else:
        table = Table("#", "title", "authors", "published", "upvotes", "id", "seen in")
        for number, paper in enumerate(result.papers, start=1):
            ident = paper.arxiv_id and f"arXiv:{paper.arxiv_id}" or paper.doi or paper.openalex_id or ""
            who = paper.organization or (f"{paper.author_count}" if paper.author_count else "")
            table.add_row(str(number), paper.title or "", who, paper.published or "",
                          str(paper.upvotes or ""), ident, str(len(paper.provenance)))
        for notice in skipped:
            where = f"line {notice.line}" if notice.line is not None else f"item {notice.item}"
            table.add_row("skipped", f"{notice.source}, {where}: {notice.reason}", "", "", "", "", "")
        stdout().print(table)
    per_input = ", ".join(f"{name}: {n}" for name, n in result.entries_per_input.items())
    stderr().print(f"{len(result.papers)} papers ({per_input}; {result.merged} duplicates merged, "
                   f"{len(skipped)} entries skipped, {len(result.warnings) - len(skipped)} other warnings)")


# -- kg enrich ------------------------------------------------------------------------

def _source_date_epoch() -> str | None:
    """The reproducible-builds convention: SOURCE_DATE_EPOCH (seconds since 1970, UTC) stands for "now" in what
    kg records, so reruns from the same answers give byte-identical outputs."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        raise KgError(f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds since 1970-01-01 UTC; "
                         "unset it or give e.g. SOURCE_DATE_EPOCH=$(date +%s)") from None


def do_enrich(papers, store: Path, out: Path, *, snapshot, openalex_url, api_key, rate, budget, workers, citing,
              depth, refresh_after, hf_url, no_hf):
    """Enrich into the store and print what it found and what it cost."""
    import duckdb

    from kg import columns
    from kg.coverage import describe, summarise
    from kg.enrich import EnrichOptions, enrich_feed
    from kg.sources import SourceOptions
    from kg.store import Store

    sources = SourceOptions(snapshot=snapshot, openalex_url=openalex_url, api_key=api_key, rate=rate,
                            budget_usd=budget, hf_url=hf_url, hf_token=os.environ.get("HF_TOKEN") or None,
                            use_hf=not no_hf, cache_folder=out)
    with progress_display() as progress:
        report = enrich_feed(papers, store, sources, EnrichOptions(citing=citing, depth=depth, workers=workers,
                                                                   refresh_after_days=refresh_after,
                                                                   run_at=_source_date_epoch()), progress)
    summary, stats = report.summary, report.source.stats
    console = stderr()
    for warning in summary.warnings:
        console.print(f"warning: {warning}", markup=False)
    console.print(f"{summary.matched} matched, {len(summary.unmatched)} unmatched ({summary.ambiguous} ambiguous, "
                  f"{summary.pending} pending) of {summary.papers} feed papers; {summary.works_stored} works stored; "
                  f"{summary.missing_references} referenced ids unknown to OpenAlex (merged or deleted)", markup=False)
    spent = f"spent ${stats.spent_usd:.4f} ({stats.spent_usd * 10_000:.0f} credits)"
    if stats.remaining_usd is not None:
        spent += f", ${stats.remaining_usd:.4f} left today"
    console.print(f"{report.source.name} requests: {stats.summary()}; {spent}; {summary.seconds:.1f} s; store {store}",
                  markup=False)
    if report.index is not None:
        console.print(f"Hugging Face requests: {report.index.stats.summary()}", markup=False)
    if (following := summary.following) is not None:
        brought = sum(following.brought.values())
        per_item = f"{following.credits / following.checked:.2f}" if following.checked else "0"
        console.print(f"following {following.items} items: {following.checked} checked in {following.questions} "
                      f"questions to OpenAlex ({following.credits:.0f} credits, {per_item} per item), {brought} new "
                      "works brought" + (f"; {len(following.waiting)} followed papers not matched yet, checked once "
                                         "they are" if following.waiting else ""), markup=False)
    if summary.resolved_without:
        console.print(f"{len(summary.resolved_without)} feed papers resolved without a failing optional service "
                      "(`kg matches` names them; the unresolved ones are asked again on the next run)", markup=False)
    for paper, resolution in summary.unmatched:
        console.print(f"  {resolution.status.replace('_', ' ')}: {paper.title or paper.key} ({resolution.reason})",
                      markup=False)
    with Store(store, read_only=True) as db:
        coverage = summarise(db.feed_coverage().values())
        try:
            with db.reading():  # so that the next `kg build` parses no record
                parsed = columns.keep(db, columns.folder_beside(store))
        except (duckdb.Error, OSError) as error:  # the records are stored: only the build's head start is lost
            parsed = 0
            console.print(f"warning: the stored records were not flattened for the next build ({error}); "
                          "`kg build` parses them itself", markup=False)
        if parsed:
            console.print(f"{parsed:,} stored records flattened into {columns.folder_beside(store)} "
                          "for the next build", markup=False)
    console.print(f"{summary.new} feed papers new to this project, {summary.refreshed} works fetched again; "
                  f"project: {describe(coverage)}", markup=False)
    return summary


@cli.command()
@feed_options
@source_options
@out_options
def enrich(inputs, hf_dates, hf_url, year, out, store, **source) -> None:
    """Match feed papers to OpenAlex works and fetch authors, venues, topics and references."""
    result = read_feed(inputs, hf_dates, hf_url, year)
    do_enrich(result.papers, store_path(out, store), out, hf_url=hf_url, **source)


@cli.command()
@click.option("--openalex-url", envvar="KG_OPENALEX_URL", default=DEFAULT_URL, show_default=True,
              help="OpenAlex API base URL (env KG_OPENALEX_URL).")
@click.option("--api-key", envvar="OPENALEX_API_KEY", default=None, help="OpenAlex API key (env OPENALEX_API_KEY).")
def budget(openalex_url, api_key) -> None:
    """Show what the OpenAlex key has left today (free: asks /rate-limit)."""
    from kg.sources.openalex import OpenAlexAPI, keyless_limits

    if not api_key:
        click.echo(keyless_limits())
        return
    client = OpenAlexAPI(openalex_url, api_key)
    try:
        limits = client.rate_limit()
    finally:
        client.close()
    costs = limits.get("endpoint_costs_usd") or {}
    click.echo(f"today: ${limits.get('daily_used_usd', 0):.4f} used of ${limits.get('daily_budget_usd', 0):.4f}, "
               f"${limits.get('daily_remaining_usd', 0):.4f} left (prepaid ${limits.get('prepaid_remaining_usd', 0):.4f});"
               f" resets {limits.get('resets_at', 'at midnight UTC')}")
    if costs:
        click.echo("cost per request: " + ", ".join(f"{kind} ${usd:g}" for kind, usd in costs.items()))


def existing_store(out: Path, store: Path | None) -> Path:
    path = store_path(out, store)
    if not path.exists():
        raise KgError(f"no enrichment store at {path}: run `kg enrich FEED...` first (or pass --store)")
    return path


def open_store(out: Path, store: Path | None):
    from kg.store import Store

    return Store(existing_store(out, store), read_only=True)


@cli.command()
@out_options
@click.option("--json", "as_json", is_flag=True, help="Write JSON Lines to stdout.")
def matches(out, store, as_json) -> None:
    """Show how every feed entry was resolved, for auditing."""
    from kg.coverage import describe, summarise
    from kg.tables import audit_rows

    with open_store(out, store) as db:
        rows, coverage = audit_rows(db), db.feed_coverage()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("feed", "#", "title", "work", "status", "method", "score", "refs", "evidence or reason")
    for row in rows:
        table.add_row(row["feed"], str(row["index"]), (row["title"] or "")[:70], last_segment(row["work_id"] or "—"),
                      row["status"].replace("_", " "), row["method"] or "",
                      f"{row['score']:.2f}" if row["score"] is not None else "",
                      "" if row["references"] is None else str(row["references"]),
                      "; ".join(t for t in (row["evidence"], row["reason"], row["missing"],
                                            _without(row["resolved_without"])) if t))
    stdout().print(table)
    statuses = Counter(row["status"] for row in rows)
    stderr().print(f"{len(rows)} feed entries: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in
                                                            sorted(statuses.items())), markup=False)
    stderr().print(f"coverage: {describe(summarise(coverage.values()))}", markup=False)


def _without(services: list[str]) -> str:
    return f"resolved without {' and '.join(services)} (it was failing)" if services else ""


# -- kg follow -------------------------------------------------------------------------

@cli.group(name="follow")
def follow_group() -> None:
    """Follow papers, authors, topics and saved queries: every later `kg run`, `kg daily` or `kg enrich` also asks
    OpenAlex which works are new for them (citing the paper, by the author, in the topic, matching the query)."""


@follow_group.command("add")
@click.argument("items", nargs=-1)
@click.option("--query", "queries", multiple=True, metavar="TEXT",
              help="Follow works whose title and abstract match this text (a paid search: 10 credits a run).")
@click.option("--as", "kind", type=click.Choice(["paper", "author", "topic"]), default=None,
              help="What the items are (default: told from their form).")
@click.option("--since", default=None, metavar="YYYY-MM-DD",
              help="Works published from this day on are new (default: 30 days ago).")
@out_options
def follow_add(items, queries, kind, since, out, store) -> None:
    """Follow ITEMS: papers (arXiv id, DOI, OpenAlex W id), authors (OpenAlex A id or ORCID), topics (T id)."""
    from kg.enrich import start_following
    from kg.store import Store

    if not items and not queries:
        raise KgError("nothing to follow: name papers, authors or topics, or give --query TEXT")
    if since is not None:
        since = check_date(since, "--since")
    pinned = _source_date_epoch()
    today = dt.date.fromisoformat(pinned[:10]) if pinned else None
    with Store(store_path(out, store)) as db:
        added = start_following(db, list(items), kind, since, today)
        added += start_following(db, list(queries), "query", since, today)
    for item in added:
        stderr().print(f"following {item.kind} {item.label} (new works from {item.since})", markup=False)
    if len(added) < len(items) + len(queries):
        stderr().print(f"{len(items) + len(queries) - len(added)} already followed", markup=False)


@follow_group.command("remove")
@click.argument("items", nargs=-1, required=True)
@click.option("--query", "is_query", is_flag=True, help="The items are saved queries.")
@out_options
def follow_remove(items, is_query, out, store) -> None:
    """Stop following ITEMS; what they brought stays in the project."""
    from kg.follow import parse_followed
    from kg.store import Store

    with Store(existing_store(out, store)) as db:
        for text in items:
            kind, value = parse_followed(text, "query" if is_query else None)
            if not db.unfollow(kind, value):
                raise KgError(f"{text!r} is not followed in {db.path} (`kg follow list` shows what is)")
            stderr().print(f"no longer following {kind} {value}", markup=False)


@follow_group.command("list")
@out_options
@click.option("--json", "as_json", is_flag=True, help="Write JSON Lines to stdout.")
def follow_list(out, store, as_json) -> None:
    """What the project follows, since when, when each was last checked and how many works each brought."""
    from kg.tables import follow_rows

    with open_store(out, store) as db:
        rows = follow_rows(db)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("kind", "followed", "since", "last checked", "works brought")
    for row in rows:
        table.add_row(row["kind"], row["label"], row["since"], row["checked"] or "not yet", str(row["brought"]))
    stdout().print(table)


# -- kg build -------------------------------------------------------------------------

def _format_list(_context, _parameter, value: str | None) -> list[str] | None:
    return [name.strip() for name in value.split(",") if name.strip()] if value else None


def formats_option(command: Callable) -> Callable:
    return click.option("--formats", default=None, callback=_format_list, metavar="NAME,...",
                        help="Export formats to write, by name or extension: ttl, jsonld, graphml, gexf, bib, ris, "
                             "json (default: all). kg.nt, the tables, threads, changes and digest are always "
                             "written.")(command)


@cli.command()
@out_options
@click.option("--cite-all", is_flag=True,
              help="Put every work of the graph, not only the feed's, into feed.bib, feed.ris and feed.json.")
@click.option("--memory-limit", default="2GB", show_default=True,
              help="What the build's engine (DuckDB) may hold in memory; beyond it, it spills to disk.")
@formats_option
def build(out, store, cite_all, memory_limit, formats) -> None:
    """Build the graph from the store and export it (Turtle, N-Triples, JSON-LD, GraphML, GEXF, tables,
    BibTeX/RIS/CSL-JSON)."""
    build_and_report(existing_store(out, store), out, cite_all, memory_limit, formats)


def build_and_report(store: Path, out: Path, cite_all: bool = False, memory_limit: str = "2GB",
                     formats: list[str] | None = None):
    from kg.export import build as build_exports

    console = stderr()
    manifest = build_exports(store, out, progress=lambda message: console.print(f"build: {message}"),
                             cite_all=cite_all, memory_limit=memory_limit, formats=formats)
    counts = manifest.counts
    console.print(f"{counts['triples']} triples, {counts['hydrated_works']} works ({counts['feed_works']} from the feed), "
                  f"{counts.get('nodes_author', 0)} authors, {counts.get('edges_cites', 0)} citations; "
                  f"{len(manifest.files)} files in {out}/ (manifest.json lists them)", markup=False)
    return manifest


# -- kg threads / render / report ------------------------------------------------------

def export_option(command: Callable) -> Callable:
    return click.option("--out", type=click.Path(path_type=Path), default=Path("exports"), show_default=True,
                        help="Export folder (written by `kg build`).")(command)


@cli.command()
@export_option
@click.option("--json", "as_json", is_flag=True, help="Print threads.json (every thread in full) instead of a table.")
def threads(out, as_json) -> None:
    """Show the research threads found among the feed's papers (computed by `kg build`)."""
    from kg.thread_io import load_threads

    found = load_threads(out)
    if as_json:
        click.echo((out / "threads.json").read_text(encoding="utf-8"), nl=False)
        return
    names = found.names
    table = Table("#", "thread", "papers", "strength", "foundations", "backbone", "top authors")
    for thread in found.threads:
        table.add_row(thread.id, thread.name, str(len(thread.papers)), f"{thread.strength:g}",
                      str(len(thread.foundations)), str(len(thread.backbone)),
                      ", ".join(names.get(a, a) for a, _ in thread.authors[:3]))
    stdout().print(table)
    if found.unconnected:
        stderr().print(f"{len(found.unconnected)} unconnected feed papers: "
                       + "; ".join((names.get(w) or w)[:60] for w in found.unconnected), markup=False)


def render_figures(out: Path, form: str) -> list[Path]:
    from kg.render import render_all

    figures = render_all(out, form)
    stderr().print(f"{len(figures)} figures in {out / 'figures'}/ ({form})", markup=False)
    return figures


@cli.command()
@export_option
@click.option("--format", "form", type=click.Choice(FIGURE_FORMATS), default="svg", show_default=True)
def render(out, form) -> None:
    """Draw the threads, the co-authorship network and an overview with Graphviz into OUT/figures/."""
    render_figures(out, form)


def write_report(out: Path) -> Path:
    from kg.report import write_report as write

    path = write(out)
    stderr().print(f"report: {path}", markup=False)
    return path


@cli.command()
@export_option
def report(out) -> None:
    """Write OUT/report.html: one self-contained page with the threads, figures, matches and top authors."""
    write_report(out)


# -- kg run ---------------------------------------------------------------------------

def run_pipeline(result: FeedResult, out: Path, store: Path | None, hf_url: str, formats: list[str] | None,
                 source: dict) -> None:
    path = store_path(out, store)
    do_enrich(result.papers, path, out, hf_url=hf_url, **source)
    manifest = build_and_report(path, out, formats=formats)
    render_figures(out, "svg")
    report_path = write_report(out)
    latest = load_changes(out).latest
    if latest:
        from kg.digest import headline

        stderr().print(headline(latest) + f" (`kg diff --out {out}` lists them)", markup=False)
    stderr().print(f"done: {manifest.counts['threads']} threads; open {report_path} "
                   f"(graph files and tables in {out}/, figures in {out / 'figures'}/, follow "
                   f"{out / 'digest.atom'} in a feed reader)", markup=False)


@cli.command()
@feed_options
@source_options
@out_options
@formats_option
def run(inputs, hf_dates, hf_url, year, out, store, formats, **source) -> None:
    """The whole pipeline: feed → enrich → build (with threads) → render → report. Run it again on the same
    --out with new feeds and the project grows: only new papers are fetched, thread ids carry over, and
    `kg diff` says what changed."""
    run_pipeline(read_feed(inputs, hf_dates, hf_url, year), out, store, hf_url, formats, source)


def _today() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).date().isoformat()


@cli.command()
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD",
              help="The day whose Hugging Face daily papers to follow (default: today, UTC).")
@click.option("--hf-url", default=HF_API_URL, show_default=True, envvar="KG_HF_URL",
              help="Base URL of the Hugging Face API (env KG_HF_URL); HF_TOKEN is sent when set.")
@source_options
@out_options
@formats_option
def daily(day, hf_url, out, store, formats, **source) -> None:
    """The daily command: today's Hugging Face daily papers, added to the project in --out, then enriched,
    built, drawn, reported and summed up in digest.atom. Hugging Face lists a day's papers over that day: run it
    late in the UTC day, or again later (only new papers are fetched); the README has a cron line."""
    run_pipeline(read_feed((), (day or _today(),), hf_url, None), out, store, hf_url, formats, source)


def load_changes(out: Path):
    from kg.changes import read_history

    history = read_history(out)
    if history is None:
        raise KgError(f"no changes.json in {out}/: run `kg build --out {out}` (or `kg run`) first")
    return history


@cli.command()
@export_option
@click.option("--json", "as_json", is_flag=True, help="Print the latest run's changes as JSON.")
@click.option("--run", "run_number", type=int, default=None, help="Show this earlier run instead of the latest.")
def diff(out, as_json, run_number) -> None:
    """What the latest run changed: new feed papers and the thread each joined (with the evidence), new,
    grown, merged and split threads, works OpenAlex filled in, and coverage."""
    from dataclasses import asdict

    from kg.coverage import describe
    from kg.digest import headline

    history = load_changes(out)
    runs = {r.run: r for r in history.runs}
    if run_number is not None and run_number not in runs:
        raise KgError(f"--run {run_number}: {out}/changes.json has runs {', '.join(map(str, runs)) or 'none'}")
    latest = runs[run_number] if run_number is not None else history.latest
    if latest is None:
        stderr().print("no runs recorded yet: the store predates run records; the next `kg run` makes one")
        return
    if as_json:
        click.echo(json.dumps(asdict(latest), ensure_ascii=False, indent=2, sort_keys=True))
        return
    console = stdout()
    console.print(headline(latest))
    if latest.new_papers:
        table = Table("new feed paper", "status", "found by following", "thread", "evidence")
        for paper in latest.new_papers:
            thread = f"{paper.thread} {paper.thread_name}" if paper.thread else (
                "not connected yet" if paper.work_id else "")
            table.add_row(paper.title or paper.key, paper.status.replace("_", " "), "\n".join(paper.found_by),
                          thread, "\n".join(f"• {e}" for e in paper.evidence))
        console.print(table)
    if latest.threads:
        table = Table("thread", "change", "papers", "added", "from / into")
        for change in latest.threads:
            table.add_row(f"{change.thread} {change.name}" if change.name != change.thread else change.thread,
                          change.change, str(change.papers), str(change.added), ", ".join(change.related))
        console.print(table)
    if latest.refreshed:
        table = Table("fetched again", "what OpenAlex added")
        for refresh in latest.refreshed:
            table.add_row(refresh["title"] or refresh["work_id"], ", ".join(refresh["added"]) or "nothing new yet")
        console.print(table)
    console.print(f"coverage: {describe(latest.coverage)}")


# -- kg query / load / publish ----------------------------------------------------------

def _display(value: dict | None) -> str:
    """A result value for people: entity IRIs as their OpenAlex ids, literals as text."""
    from kg.rdf import SEMOPENALEX

    if value is None:
        return ""
    if value["type"] == "uri" and value["value"].startswith(SEMOPENALEX):
        return last_segment(value["value"])
    return value["value"]


@cli.command()
@click.argument("name_or_file", required=False)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query parameter (repeatable).")
@click.option("--format", "form", type=click.Choice(["table", "csv", "tsv", "json"]), default="table",
              show_default=True, help="table for reading; csv, tsv (SPARQL TSV) or json (SPARQL JSON) for piping.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most this many rows.")
@click.option("--data", type=click.Path(path_type=Path), default=Path("exports"), show_default=True,
              help="Export folder the embedded engine loads (kg.nt).")
@click.option("--db", type=click.Path(path_type=Path), default=None, help="Query a store made by `kg load --db`.")
@click.option("--endpoint", default=None, metavar="URL", help="Send the query to a SPARQL 1.1 endpoint instead.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60, show_default=True,
              help="Seconds to wait for an endpoint.")
@click.option("--list", "list_queries", is_flag=True, help="List the query library.")
def query(name_or_file, params, form, limit, data, db, endpoint, timeout, list_queries) -> None:
    """Run a library query by name (see --list) or any .rq file, over the export or an endpoint."""
    from kg import query as sparql

    if list_queries or not name_or_file:
        table = Table("name", "question", "parameters", "semopenalex.org")
        for name, entry in sparql.library().items():
            table.add_row(name, entry.title, " ".join(f"{p.name}={p.kind}" for p in entry.parameters),
                          entry.semopenalex.split(" ", 1)[0])
        stdout().print(table)
        return
    entry = sparql.find_query(name_or_file)
    values = {}
    for param in params:
        name, sep, value = param.partition("=")
        if not sep or not name:
            raise KgError(f"--param {param!r}: write it as NAME=VALUE")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise KgError(f"--param {name}: the value is not UTF-8 text; check your terminal's encoding") from None
        values[name.strip()] = value
    sparql.check_syntax(entry.text, name_or_file)
    text = sparql.bind(entry, values)
    engine = sparql.Endpoint(endpoint, timeout) if endpoint else sparql.Embedded(data=data, db=db)
    results = engine.run(text)
    total = len(results.rows)
    if limit is not None:
        results.rows = results.rows[:limit]
    if form != "table" or results.variables == []:
        click.echo(sparql.serialise(results, form), nl=False)
        return
    table = Table(*results.variables)
    for row in results.rows:
        table.add_row(*(_display(row.get(v)) for v in results.variables))
    stdout().print(table)
    shown = f"{len(results.rows)} of {total} rows" if len(results.rows) < total else f"{total} rows"
    stderr().print(f"{entry.title or entry.name}: {shown}", markup=False)


@cli.command()
@click.option("--db", type=click.Path(path_type=Path), required=True, help="Where to keep the Oxigraph store.")
@click.option("--data", type=click.Path(path_type=Path), default=Path("exports"), show_default=True,
              help="Export folder to load (kg.nt).")
def load(db, data) -> None:
    """Load the export into a persistent on-disk store, so `kg query --db` needs no reloading."""
    from kg.publish import load_database

    size = load_database(data, db)
    stderr().print(f"{size} triples from {data}/kg.nt in {db}; query it with `kg query NAME --db {db}`", markup=False)


@cli.command()
@click.option("--endpoint", required=True, metavar="URL",
              help="Graph Store Protocol endpoint, e.g. http://localhost:7878/store for `oxigraph serve`.")
@click.option("--graph", default=None, metavar="IRI", help="Named graph to write (default: the default graph).")
@click.option("--append", is_flag=True, help="Add to the graph instead of replacing it.")
@click.option("--data", type=click.Path(path_type=Path), default=Path("exports"), show_default=True,
              help="Export folder to upload (kg.nt).")
def publish(endpoint, graph, append, data) -> None:
    """Upload the export to a SPARQL server with the SPARQL 1.1 Graph Store HTTP Protocol."""
    from kg.publish import publish as upload

    upload(data, endpoint, graph, replace=not append)
    stderr().print(f"{'added' if append else 'replaced'} {graph or 'the default graph'} at {endpoint} "
                   f"with {data}/kg.nt", markup=False)


# -- kg snapshot build ------------------------------------------------------------------

def _memory_size(context, parameter, value: str) -> str:
    """Spark's JVM fails to start on a bad size with a misleading message, so check it here."""
    if not re.fullmatch(r"\d+[kmgt]?", value.strip().lower()):
        raise click.BadParameter(f"{value!r} is not a size: give one like 4g or 512m")
    return value.strip().lower()


@cli.group()
def snapshot() -> None:
    """Work from the OpenAlex snapshot on Apache Spark (for more than the API should serve)."""


@snapshot.command("build")
@click.argument("snapshot_dir", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output folder: ntriples/ (gzip parts), nodes/ and edges/ (Parquet), summary.json.")
@click.option("--master", default=None,
              help="Spark master: local[N] or spark://host:7077 (default: spark-submit's, else local[*]).")
@click.option("--feed", "feeds", multiple=True, metavar="FEED",
              help="Keep only the neighbourhood of this feed's works (repeatable).")
@click.option("--depth", type=click.IntRange(1, 5), default=1, show_default=True,
              help="Citation hops (either direction) around the feed's works.")
@click.option("--partitions", type=click.IntRange(min=1), default=None,
              help="Partitions of Spark's shuffles, about the number of output parts (default: one per input file).")
@click.option("--memory", default="4g", show_default=True, callback=_memory_size,
              help="Spark driver memory; in local mode all the memory Spark has (ignored under spark-submit, "
                   "which sets its own).")
def snapshot_build(snapshot_dir, out, master, feeds, depth, partitions, memory) -> None:
    """Convert a snapshot (or a feed's neighbourhood in it) to N-Triples and Parquet, as `kg build` would."""
    from kg.snapshot import build_snapshot

    papers = read_feed(feeds, (), HF_API_URL, None).papers if feeds else None
    counts = build_snapshot(snapshot_dir, out, master, papers, depth, partitions, memory,
                            progress=lambda message: stderr().print(message, markup=False))
    stderr().print(f"{counts['works']} works → {counts['triples']} triples, {counts['nodes']} nodes, "
                   f"{counts['edges']} edges from {counts['files']} snapshot files; output in {out}/", markup=False)
