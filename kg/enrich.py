"""Enrichment: resolve feed papers to OpenAlex works and fetch their neighbourhood.

Resolution takes the cheapest evidence first, because a page of titles would
otherwise cost one paid search (10 credits) per title:

1. ids the feed gives (OpenAlex ids, DOIs, arXiv ids): 100 per list call
   (1 credit), arXiv ids by their DOI, then by their landing page;
2. titles: Hugging Face's paper search (free) names the arXiv id of a title it
   knows; the match is verified like any title match, then resolved as in 1;
3. still unresolved: OpenAlex autocomplete (free) proposes works by title;
   the plausible ones are fetched in one batch and verified;
4. only then a paid `search.title=` with a small page and `select`;
5. then each followed item (`kg.follow`) is asked what is new for it, and the works the project lacks
   join it as feed papers that say why.

A paper none of these finds is "pending" while it is recent (OpenAlex indexes
new arXiv papers within days) and looked for again on a later run, otherwise
"not in OpenAlex". The store decides what is fetched: every phase asks it what
the graph still lacks, so a rerun after any interruption continues where the
last one stopped, and a rerun of a finished enrichment sends no request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from kg import follow
from kg.coverage import added, record_coverage
from kg.errors import BudgetExhausted, SourceError
from kg.feeds import FeedPaper, Provenance
from kg.ids import arxiv_doi, arxiv_ids_of, bare_doi, filter_safe, full_id, is_openalex_key, short_id
from kg.resolve import ACCEPT, Resolution, choose, match_by_identifier, score_candidate, verified_arxiv_id
from kg.sources import PaperIndex, Source, SourceOptions, open_sources
from kg.sources.openalex import ARXIV_URL_FORMS, GRAPH_FIELDS, MAX_PER_CALL
from kg.store import FULL, SINGLETON, Store
from kg.text import normalise_title

T = TypeVar("T")
R = TypeVar("R")

FREE_SINGLETONS = 10
"""A call for this many feed works or fewer goes as free singletons instead of one paid list call (1 credit):
ten requests take a second at the keyless pace, and a singleton is the full record kg wants for a feed work
anyway (a list cuts authorships at 100)."""
RECENT_DAYS = 30
"""A paper published this many days ago or less may simply not be indexed yet: it stays pending."""
REFRESH_AFTER_DAYS = 3.0
"""Pending papers, and feed works stored without references or abstract, are looked up again once this long
has passed: OpenAlex fills new preprints in over days (the `--refresh-after` default)."""


Progress = Callable[[str, int], Callable[[int], None]]


def no_progress(_phase: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


@dataclass
class EnrichOptions:
    citing: int = 0
    depth: int = 1
    workers: int = 4
    refresh_after_days: float = REFRESH_AFTER_DAYS
    search_candidates: int = 5
    today: dt.date | None = None  # for "recent" (tests pin it); None = the real today
    run_at: str | None = None
    """The time the run is recorded at (shown as `first_seen`, in diffs and digests); None = now.
    The CLI pins it from SOURCE_DATE_EPOCH, so that two projects built from the same answers are identical."""


@dataclass
class EnrichSummary:
    papers: int = 0
    new: int = 0
    refreshed: int = 0
    matched: int = 0
    unmatched: list[tuple[FeedPaper, Resolution]] = field(default_factory=list)
    ambiguous: int = 0
    pending: int = 0
    works_stored: int = 0
    missing_references: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    """One line per optional service that failed, saying what kg did instead."""
    resolved_without: dict[str, list[str]] = field(default_factory=dict)
    """Feed paper keys resolved (or left pending) without the optional services named."""
    following: FollowSummary | None = None


@dataclass
class FollowSummary:
    """What checking the followed items asked and brought in one run."""

    items: int = 0
    checked: int = 0
    questions: int = 0
    credits: float = 0.0
    """What the questions cost, by OpenAlex's own accounting."""
    brought: dict[str, int] = field(default_factory=dict)
    """Provenance source (`follow:cites:W1`, …) → works it brought in this run that the project lacked."""
    waiting: list[str] = field(default_factory=list)
    """Followed papers not matched to a work yet: their citing works are asked once they are."""


def chunks(items: list[T], size: int = MAX_PER_CALL) -> list[list[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def in_parallel(items: Iterable[T], fetch: Callable[[T], R], workers: int) -> Iterable[tuple[T, R]]:
    """Fetch items on a small pool, yielding in order so the caller writes each result as it lands.

    On any failure (a spent budget, Ctrl-C) queued work is cancelled and the
    error propagates: everything already yielded has been stored.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield item, fetch(item)
        return
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [(item, pool.submit(fetch, item)) for item in items]
        for item, future in futures:
            yield item, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _query_text(title: str | None, words: int) -> str:
    return " ".join(normalise_title(title or "").split()[:words])[:300]


def _arxiv_doi_of(arxiv_id: str | None) -> str | None:
    return arxiv_doi(arxiv_id) if arxiv_id else None


class Enricher:
    def __init__(self, source: Source, store: Store, options: EnrichOptions | None = None,
                 progress: Progress = no_progress, papers_index: PaperIndex | None = None):
        self.source = source
        self.store = store
        self.options = options or EnrichOptions()
        self.progress = progress
        self.papers_index = papers_index
        self.failed_services: dict[str, str] = {}  # optional service → the warning said when it failed
        self.without: dict[str, set[str]] = {}     # feed paper key → optional services it was resolved without
        self.lock = threading.Lock()

    def _optional(self, service: str, instead: str, call: Callable[[], list[dict]], paper: FeedPaper) -> list[dict]:
        """Ask an optional free service; once it has failed after its retries, it is not asked again this run:
        one warning names it and what kg does instead, and the paper is marked as resolved without it."""
        if service not in self.failed_services:
            try:
                return call()
            except BudgetExhausted:
                raise
            except SourceError as error:
                with self.lock:
                    self.failed_services.setdefault(service, f"{service} failed ({error}); {instead}")
        with self.lock:
            self.without.setdefault(paper.key, set()).add(service)
        return []

    def _save_resolutions(self, resolutions: Iterable[Resolution]) -> None:
        resolutions = list(resolutions)
        for resolution in resolutions:
            resolution.resolved_without = sorted(self.without.get(resolution.key, ()))
        self.store.save_resolutions(resolutions)

    def run(self, papers: list[FeedPaper]) -> EnrichSummary:
        started = time.monotonic()
        # Anything stored before this moment is due again (a work fetched during this run never is).
        due = (dt.datetime.now(dt.UTC).replace(microsecond=0)
               - dt.timedelta(days=self.options.refresh_after_days)).isoformat()
        known = {p.key for p in self.store.feed_papers()}
        run = self.store.start_run(papers, at=self.options.run_at)
        self.store.add_feed(papers)
        done = self.store.resolutions()
        retry = self.store.pending_checked_before(due) | self.store.resolved_without_a_service()
        # Pending papers of earlier feeds are looked for too: the project follows every feed it was given.
        todo = [p for p in papers if p.key not in done or p.key in retry]
        given = {p.key for p in papers}
        # So are papers the store has but never resolved (a followed paper, a feed of an interrupted run).
        todo += [p for p in self.store.feed_papers() if (p.key in retry or p.key not in done) and p.key not in given]
        leftovers = self._resolve_by_identifiers(todo, lambda p: p.arxiv_id, "")
        titled = [p for p in leftovers if p.title]
        self._give_up([p for p in leftovers if not p.title],
                      "identifier not found in OpenAlex and no title to search for")
        if self.papers_index is not None:  # a paper whose arXiv id already missed gains nothing from asking for it
            titled = [p for p in titled if p.arxiv_id] + self._resolve_through_hugging_face(
                [p for p in titled if not p.arxiv_id])
        titled = self._resolve_by_autocomplete(titled)
        self._resolve_by_search(titled)
        following = self._follow_literature(run)
        feed_ids = sorted({r.work_id for r in self.store.resolutions().values() if r.work_id})
        self._hydrate_feed_works(feed_ids)
        refreshed = self._refresh_incomplete(feed_ids, due, run)
        self._fetch_references(feed_ids)
        if self.options.citing > 0:
            self._fetch_citing(feed_ids)
        summary = self._summary(papers, time.monotonic() - started)
        summary.new, summary.refreshed, summary.following = len(given - known), refreshed, following
        summary.warnings = sorted(self.failed_services.values())
        summary.resolved_without = {k: sorted(v) for k, v in sorted(self.without.items())}
        return summary

    # -- 1. identifiers -------------------------------------------------------------

    def _resolve_by_identifiers(self, papers: list[FeedPaper], arxiv_of: Callable[[FeedPaper], str | None],
                                via: str, evidence_of: Callable[[FeedPaper], str | None] = lambda p: None
                                ) -> list[FeedPaper]:
        """Resolve papers by OpenAlex id, DOI or arXiv id (`arxiv_of`); return the rest."""
        openalex = {p.key: full_id(p.openalex_id) for p in papers if p.openalex_id and is_openalex_key(p.openalex_id)}
        by_openalex = [p for p in papers if p.key in openalex]
        rest = [p for p in papers if p.openalex_id and p.key not in openalex]
        found = self._batched("Resolving OpenAlex ids", list(openalex.values()),
                              lambda batch: self.source.works_by_ids(batch), lambda r: [r["id"]])
        rest += self._accept(by_openalex, lambda p: found.get(openalex[p.key], []), lambda p: "openalex_id",
                             evidence_of)

        doi_of: dict[str, str] = {}
        for paper in papers:
            if not paper.openalex_id and (doi := bare_doi(paper.doi) or _arxiv_doi_of(arxiv_of(paper))):
                doi_of[paper.key] = doi
        by_doi = [p for p in papers if p.key in doi_of]
        rest += [p for p in papers if not p.openalex_id and p.key not in doi_of]
        safe = sorted({d for d in doi_of.values() if filter_safe(d)})
        found = self._batched("Resolving DOIs and arXiv ids", safe, self.source.works_by_dois,
                              lambda r: [bare_doi(r.get("doi")) or ""])
        # A DOI with filter syntax in it (`,` `|` `:`) is looked up on its own, never inside a batch.
        unsafe = sorted({d for d in doi_of.values() if not filter_safe(d)})
        for doi, record in in_parallel(unsafe, self.source.work_by_doi, self.options.workers):
            found[doi] = [record] if record else []
        method = lambda p: "doi" if p.doi else f"{via}arxiv_doi"
        missed = self._accept(by_doi, lambda p: found.get(doi_of[p.key], []), method, evidence_of)

        arxiv = {p.key: a.lower() for p in missed if not p.doi and (a := arxiv_of(p))}
        by_arxiv = [p for p in missed if p.key in arxiv]
        rest += [p for p in missed if p.key not in arxiv]
        return rest + self._resolve_by_landing_pages(by_arxiv, arxiv, f"{via}arxiv_location", evidence_of)

    def _resolve_by_landing_pages(self, papers: list[FeedPaper], arxiv: dict[str, str], method: str,
                                  evidence_of: Callable[[FeedPaper], str | None]) -> list[FeedPaper]:
        """Resolve papers by the arXiv landing pages of their ids; return the rest.

        Two rounds: the common URL forms, then the rare ones for the ids still missing. A call costs one credit
        whether it holds 4 values or 100, so the ids that would make a last, small call of the first round
        join the second with every form at once."""
        common, rare = ARXIV_URL_FORMS["common"], ARXIV_URL_FORMS["rare"]
        ids = sorted({arxiv[p.key] for p in papers})
        tail = len(ids) % (MAX_PER_CALL // len(common))
        late = ids[len(ids) - tail:] if tail * (len(common) + len(rare)) <= MAX_PER_CALL else []
        first = ids[:len(ids) - len(late)]
        urls = lambda of, forms: [form.format(a) for a in of for form in forms]
        keys_of = lambda record: sorted(arxiv_ids_of(record))
        found = self._batched("Resolving arXiv landing pages", urls(first, common),
                              self.source.works_by_landing_pages, keys_of)
        second = urls([a for a in first if a not in found], rare) + urls(late, common + rare)
        found.update(self._batched("Resolving arXiv landing pages (rare URL forms)", second,
                                   self.source.works_by_landing_pages, keys_of))
        return self._accept(papers, lambda p: found.get(arxiv[p.key], []), lambda p: method, evidence_of)

    def _batched(self, phase: str, keys: list[str], fetch: Callable[[list[str]], list[dict]],
                 keys_of: Callable[[dict], list[str]]) -> dict[str, list[dict]]:
        """Look keys up 100 per call; map each key to the records that carry it."""
        found: dict[str, list[dict]] = {}
        unique = sorted(set(keys))
        advance = self.progress(phase, len(unique))
        for batch, records in in_parallel(chunks(unique), fetch, self.options.workers):
            for record in records:
                for key in keys_of(record):
                    found.setdefault(key, []).append(record)
            advance(len(batch))
        return found

    def _accept(self, papers: list[FeedPaper], records_of: Callable[[FeedPaper], list[dict]],
                method_of: Callable[[FeedPaper], str], evidence_of: Callable[[FeedPaper], str | None]
                ) -> list[FeedPaper]:
        """Store the papers an identifier resolved, in one transaction; return the others."""
        resolutions: list[Resolution] = []
        records: list[dict] = []
        unresolved: list[FeedPaper] = []
        for paper in papers:
            resolution = match_by_identifier(paper, records_of(paper), method_of(paper), evidence_of(paper))
            if resolution is None:
                unresolved.append(paper)
            else:
                resolutions.append(resolution)
                records.extend(r for r in records_of(paper) if r["id"] == resolution.work_id)
        self.store.save_works(records, "feed", complete=FULL)
        self._save_resolutions(resolutions)
        return unresolved

    # -- 2. Hugging Face knows the arXiv id of a title ------------------------------------

    def _resolve_through_hugging_face(self, papers: list[FeedPaper]) -> list[FeedPaper]:
        advance = self.progress("Asking Hugging Face for arXiv ids", len(papers))
        arxiv: dict[str, tuple[str, float]] = {}
        index = self.papers_index
        assert index is not None
        search = lambda p: self._optional(
            "Hugging Face paper search", "titles go to OpenAlex autocomplete, then its paid title search; "
            "the papers it could not resolve are asked again on the next run",
            lambda: index.search(_query_text(p.title, 30)), p)
        for paper, items in in_parallel(papers, search, self.options.workers):
            if found := verified_arxiv_id(paper, items):
                arxiv[paper.key] = found
            advance(1)
        named = [p for p in papers if p.key in arxiv]
        evidence = lambda p: (f"arXiv {arxiv[p.key][0]} from Hugging Face paper search "
                              f"(title score {arxiv[p.key][1]:.2f})")
        rest = self._resolve_by_identifiers(named, lambda p: arxiv[p.key][0], "hf_", evidence)
        return [p for p in papers if p.key not in arxiv] + rest

    # -- 3. OpenAlex autocomplete (free) ----------------------------------------------------

    def _resolve_by_autocomplete(self, papers: list[FeedPaper]) -> list[FeedPaper]:
        """Candidates from autocomplete whose titles are close enough, fetched in batches and verified."""
        advance = self.progress("OpenAlex autocomplete", len(papers))
        candidates: dict[str, list[str]] = {}
        complete = lambda p: self._optional(
            "OpenAlex autocomplete", "titles go to OpenAlex's paid title search; the papers it could not resolve "
            "are asked again on the next run", lambda: self.source.autocomplete(_query_text(p.title, 12)), p)
        for paper, hits in in_parallel(papers, complete, self.options.workers):
            # Only a hit whose title alone could pass verification is worth fetching.
            candidates[paper.key] = [full_id(h["id"]) for h in hits if h.get("id") and score_candidate(
                paper, {"display_name": h.get("display_name")})[0] >= ACCEPT]
            advance(1)
        ids = sorted({c for found in candidates.values() for c in found})
        records: dict[str, dict] = {}
        levels: dict[str, int] = {}
        for batch in chunks(ids):
            found, level = self._feed_works(batch)
            records.update((r["id"], r) for r in found)
            levels.update((r["id"], level) for r in found)
        rest, resolutions, chosen = [], [], []
        for paper in papers:
            offered = [records[c] for c in candidates[paper.key] if c in records]
            resolution = choose(paper, offered, method="autocomplete") if offered else None
            if resolution is None or not resolution.work_id:
                rest.append(paper)
                continue
            resolution.evidence = "OpenAlex autocomplete candidate, title verified"
            resolutions.append(resolution)
            chosen.append(records[resolution.work_id])
        for level in sorted({levels[r["id"]] for r in chosen}):
            self.store.save_works([r for r in chosen if levels[r["id"]] == level], "feed", complete=level)
        self._save_resolutions(resolutions)
        return rest

    # -- 4. paid title search -------------------------------------------------------------

    def _resolve_by_search(self, papers: list[FeedPaper]) -> None:
        advance = self.progress("Searching titles (paid)", len(papers))
        search = lambda p: self.source.search_titles(_query_text(p.title, 30), self.options.search_candidates)
        for paper, candidates in in_parallel(papers, search, self.options.workers):
            resolution = choose(paper, candidates)
            if resolution.work_id:
                resolution.evidence = "OpenAlex title search"
            elif resolution.status == "unmatched":
                resolution = self._not_found(paper, resolution.reason)
            self.store.save_works([r for r in candidates if r["id"] == resolution.work_id], "feed", complete=0)
            self._save_resolutions([resolution])
            advance(1)

    def _not_found(self, paper: FeedPaper, reason: str | None) -> Resolution:
        """Pending while the paper is recent (OpenAlex may not have indexed it yet), else not in OpenAlex."""
        today = self.options.today or dt.date.today()
        dates = [d for d in (paper.published, paper.feed_date) if d]
        try:
            newest = max(dt.date.fromisoformat(d[:10]) for d in dates) if dates else None
        except ValueError:
            newest = None
        if newest is not None and (today - newest).days <= RECENT_DAYS:
            return Resolution(paper.key, None, "search", None, "pending",
                              f"not in OpenAlex yet (published {newest}); looked for again on later runs"
                              + (f"; {reason}" if reason else ""))
        return Resolution(paper.key, None, "search", None, "not_in_openalex",
                          "not found in OpenAlex" + (f"; {reason}" if reason else ""))

    def _give_up(self, papers: list[FeedPaper], reason: str) -> None:
        self._save_resolutions(Resolution(p.key, None, "identifier", None, "not_in_openalex", reason)
                                    for p in papers)

    # -- 5. followed items -------------------------------------------------------------

    def _follow_literature(self, run: int) -> FollowSummary | None:
        """Ask OpenAlex what is new for each followed item; the works the project lacks join it as feed papers
        with their provenance, those it has gain the provenance. An item is marked checked once its question is
        answered in full, so a budget stop asks the unanswered ones again on the rerun; an item checked today is
        not asked again (a rerun of a finished run sends no request)."""
        items = self.store.follows()
        if not items:
            return None
        resolutions = self.store.resolutions()
        work_of = {k: r.work_id for k, r in resolutions.items() if r.work_id}
        day = self._day()
        asked, waiting = follow.queries([i for i in items if i.checked != day], work_of)
        summary = FollowSummary(items=len(items), waiting=[i.value for i in waiting])
        advance = self.progress("Asking OpenAlex what is new for followed items", len(asked))
        spent = self.source.stats.spent_usd
        for question in asked:
            records = self.source.works_since(question.filter, question.values, question.since)
            self._take_followed(question, records, run, summary)
            self.store.checked(question.items, day)
            summary.checked += len(question.items)
            summary.questions += 1
            summary.credits = (self.source.stats.spent_usd - spent) * 10_000
            advance(1)
        return summary

    def _take_followed(self, question: follow.FollowQuery, records: list[dict], run: int,
                       summary: FollowSummary) -> None:
        """Store what one question brought: new works as feed papers, full records, resolved to themselves; works
        the project has gain the provenance."""
        resolutions = self.store.resolutions()
        key_of = {r.work_id: k for k, r in sorted(resolutions.items(), reverse=True) if r.work_id}
        papers = {p.key: p for p in self.store.feed_papers()}
        complete = self.store.complete_ids(FULL)
        next_index: dict[str, int] = {}
        found, fetched, matched = [], [], []
        for record in sorted(records, key=lambda r: r["id"]):
            values = follow.brought_by(record, question)
            if not values and record.get("is_authors_truncated"):  # the followed author is past the 100th
                record = self.source.single_work(record["id"]) or record
                values = follow.brought_by(record, question)
            key = key_of.get(record["id"]) or f"openalex:{short_id(record['id'])}"
            known = papers.get(key)
            sources = [s for s in (follow.provenance_source(question.filter, v) for v in values or question.values)
                       if not known or s not in {p.source for p in known.provenance}]
            if not sources:
                continue
            for s in sources:
                next_index.setdefault(s, self.store.entries_of(s))
                next_index[s] += 1
                if not known:
                    summary.brought[s] = summary.brought.get(s, 0) + 1
            found.append(dataclasses.replace(
                known or FeedPaper(title=record.get("display_name") or record.get("title"),
                                   openalex_id=short_id(record["id"]), published=record.get("publication_date")),
                provenance=[Provenance(s, next_index[s] - 1, None) for s in sources]))
            if record["id"] not in complete:
                fetched.append(record)
            if key not in resolutions:
                matched.append(Resolution(key, record["id"], "followed", 1.0, evidence="found by following: "
                                          + ", ".join(follow.describe_source(s) for s in sources)))
        self.store.save_works(fetched, "feed", complete=FULL)
        self.store.add_feed(found)
        self.store.sight(run, [p.key for p in found])
        self._save_resolutions(matched)

    # -- expansion --------------------------------------------------------------------

    def _hydrate_feed_works(self, feed_ids: list[str]) -> None:
        """Full records for every feed work; a singleton (free) where a list record may have cut authorships."""
        self.store.add_role(feed_ids, "feed")
        partial = sorted(set(feed_ids) - self.store.complete_ids(FULL))
        self._hydrate("Hydrating feed works", partial, "feed", select=None)
        cut = self.store.cut_authorships(feed_ids)
        advance = self.progress("Refetching works with 100+ authors", len(cut))
        for _work_id, record in in_parallel(cut, self.source.single_work, self.options.workers):
            if record:
                self.store.save_works([record], "feed", complete=SINGLETON)
            advance(1)

    def _refresh_incomplete(self, feed_ids: list[str], due: str, run: int) -> int:
        """Fetch again the feed works stored before `due` without references or abstract; record what each gained.

        A work stored as a singleton (100+ authors) is refetched as one, so that no author is lost.
        """
        stale = self.store.incomplete_fetched_before(feed_ids, due)
        singletons = set(stale) & self.store.complete_ids(SINGLETON)
        before = {w: record_coverage(self.store.record(w) or {}) for w in stale}
        advance = self.progress("Refreshing works OpenAlex had incomplete", len(stale))

        def store(records: list[dict], level: int) -> None:
            self.store.save_works(records, "feed", complete=level)
            for record in records:
                self.store.save_refresh(run, record["id"], added(before[record["id"]], record_coverage(record)))

        listed = [w for w in stale if w not in singletons]
        for batch, records in in_parallel(chunks(listed), self.source.works_by_ids, self.options.workers):
            store(records, FULL)
            advance(len(batch))
        for _work_id, record in in_parallel(sorted(singletons), self.source.single_work, self.options.workers):
            store([record] if record else [], SINGLETON)
            advance(1)
        return len(stale)

    def _fetch_references(self, feed_ids: list[str]) -> None:
        frontier = set(feed_ids)
        for level in range(1, self.options.depth + 1):
            role = "reference" if level == 1 else f"reference{level}"
            aliases = self.store.aliases()
            referenced = {aliases.get(full_id(ref), full_id(ref)) for work_id in sorted(frontier)
                          for ref in self.store.referenced_works(work_id)}
            self._hydrate(f"References (hop {level})", sorted(referenced - self.store.known_ids()), role, GRAPH_FIELDS)
            aliases = self.store.aliases()
            frontier = {aliases.get(r, r) for r in referenced}
            self.store.add_role(sorted(frontier & self.store.stored_ids()), role)

    def _hydrate(self, phase: str, ids: list[str], role: str, select: list[str] | None) -> None:
        """Fetch works 100 per call. Ids a batch does not return are merged or deleted: a snapshot says which
        id survived (then that one is fetched); the API cannot, so they are recorded as missing, once."""
        advance = self.progress(phase, len(ids))
        while ids:
            followups: list[str] = []
            fetch = lambda batch: self._feed_works(batch) if select is None else (
                self.source.works_by_ids(batch, select), 0)
            for batch, (records, level) in in_parallel(chunks(ids), fetch, self.options.workers):
                returned = {r["id"] for r in records}
                absent = [i for i in batch if i not in returned]
                aliases = self.source.merged_into(absent) if absent else {}
                missing = [i for i in absent if i not in aliases]
                self.store.save_works(records, role, complete=level, aliases=aliases, missing=missing)
                followups.extend(aliases.values())
                advance(len(batch))
            ids = sorted(set(followups) - self.store.known_ids())

    def _feed_works(self, ids: list[str]) -> tuple[list[dict], int]:
        """Full records of up to 100 works and how complete they are: free singletons for a few, else a list call.

        References keep to list calls (with `select`) whatever their number, so that a reference's record
        does not depend on how a run happened to split its batches."""
        if len(ids) > FREE_SINGLETONS:
            return self.source.works_by_ids(ids), FULL
        return [r for r in map(self.source.single_work, ids) if r], SINGLETON

    def _fetch_citing(self, feed_ids: list[str]) -> None:
        """Works citing the feed works, 100 feed works per query; works nobody cites cost nothing. Feed works
        whose citing works were fetched on an earlier day are asked only for the works published since (less
        the indexing lag), so that their citations grow in the project as they do in OpenAlex."""
        day = self._day()
        todo = [w for w in feed_ids if w not in self.store.citing_done()]
        uncited = [w for w in todo if ((self.store.record(w) or {}).get("cited_by_count") or 0) == 0]
        self.store.save_citing(uncited, self.options.citing, [], day)
        cited = [w for w in todo if w not in set(uncited)]
        advance = self.progress("Citing works", len(cited))
        fetch = lambda batch: self.source.citing_works(batch, self.options.citing, GRAPH_FIELDS)
        for batch, records in in_parallel(chunks(cited), fetch, self.options.workers):
            self.store.save_citing(batch, self.options.citing, records, day)
            advance(len(batch))
        windows: dict[str, list[str]] = {}
        for work, checked in sorted(self.store.citing_checked().items()):
            if work in set(feed_ids) and checked != day:
                windows.setdefault(follow.lagged(checked or day), []).append(work)
        advance = self.progress("New citing works", sum(map(len, windows.values())))
        for since, works in sorted(windows.items()):
            for batch in chunks(works):
                records = self.source.works_since("cites", [short_id(w) for w in batch], since)
                self.store.add_citing(batch, records, day)
                advance(len(batch))

    def _day(self) -> str:
        """The run's day: that of its recorded time when pinned (SOURCE_DATE_EPOCH), else today (UTC)."""
        if self.options.run_at:
            return self.options.run_at[:10]
        return (self.options.today or dt.datetime.now(dt.UTC).date()).isoformat()

    def _summary(self, papers: list[FeedPaper], seconds: float) -> EnrichSummary:
        resolutions = self.store.resolutions()
        counts = self.store.counts()
        summary = EnrichSummary(papers=len(papers), seconds=seconds, works_stored=counts["works"],
                                missing_references=counts["missing"])
        for paper in papers:
            resolution = resolutions.get(paper.key)
            if resolution and resolution.work_id:
                summary.matched += 1
            elif resolution:
                summary.ambiguous += resolution.status == "ambiguous"
                summary.pending += resolution.status == "pending"
                summary.unmatched.append((paper, resolution))
        return summary


FOLLOWED_PAPERS = "kg follow"
"""The feed name of the papers `kg follow add` adds: a followed paper is a paper of the project."""


def start_following(store: Store, texts: list[str], kind: str | None, since: str | None,
                    today: dt.date | None = None) -> list[follow.Followed]:
    """Follow these items (see `kg.follow.parse_followed`) from `since` (default: INDEXING_LAG_DAYS ago); a
    followed paper also joins the project as a feed paper, resolved on the next run. Return the new ones."""
    start = since or ((today or dt.date.today()) - dt.timedelta(days=follow.INDEXING_LAG_DAYS)).isoformat()
    items = [follow.Followed(*follow.parse_followed(text, kind), since=start) for text in texts]
    added = store.follow(items)
    papers: list[FeedPaper] = []
    for item in added:
        if item.kind == "paper":
            id_kind, value = item.value.split(":", 1)
            where = [Provenance(FOLLOWED_PAPERS, store.entries_of(FOLLOWED_PAPERS) + len(papers), None)]
            papers.append(FeedPaper(arxiv_id=value if id_kind == "arxiv" else None,
                                    doi=value if id_kind == "doi" else None,
                                    openalex_id=value if id_kind == "openalex" else None, provenance=where))
    store.add_feed(papers)
    return added


@dataclass
class EnrichReport:
    """What an enrichment found, and what it asked of which service."""

    summary: EnrichSummary
    source: Source
    index: PaperIndex | None


def enrich_feed(papers: list[FeedPaper], store_path: Path, sources: SourceOptions, options: EnrichOptions,
                progress: Progress = no_progress) -> EnrichReport:
    """Enrich the papers into the store at `store_path`; the services are closed whatever happens.

    A spent budget stops with `BudgetExhausted`, everything fetched kept, its message saying how far it got.
    """
    source, index = open_sources(sources)
    try:
        with Store(store_path) as store:
            try:
                summary = Enricher(source, store, options, progress, index).run(papers)
            except BudgetExhausted as error:
                done = len(store.resolutions())
                raise BudgetExhausted(f"{error}. {done} of {len(papers)} feed papers are resolved and everything "
                                      f"fetched is stored in {store_path}; rerun the same command then (or with a "
                                      "higher --budget) to continue") from None
    finally:
        source.close()
        if index is not None:
            index.close()
    return EnrichReport(summary, source, index)
