"""Enrichment: resolve feed papers to OpenAlex works and fetch their neighbourhood.

The store decides what is fetched: every phase asks it what is still missing,
so a rerun after an interruption continues where the last one stopped, and a
rerun of a finished enrichment sends no request at all. Cheap evidence goes
first (ids, batched by 100 per call), one search per remaining title, then
references in batches of 100 with only the fields the graph uses.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol, TypeVar

from kg.feeds import FeedPaper, normalise_title
from kg.openalex import ARXIV_IDS_PER_CALL, GRAPH_FIELDS, MAX_PER_CALL, RequestStats, arxiv_doi, arxiv_ids_of, bare_doi, full_id
from kg.resolve import Resolution, choose, match_by_identifier
from kg.store import Store

T = TypeVar("T")
R = TypeVar("R")


class Source(Protocol):
    """What enrichment needs from OpenAlex (the API client and the snapshot both provide it)."""

    stats: RequestStats

    def works_by_ids(self, ids: list[str], select: list[str] | None = None) -> list[dict]: ...
    def works_by_dois(self, dois: list[str]) -> list[dict]: ...
    def works_by_arxiv(self, arxiv_ids: list[str]) -> list[dict]: ...
    def search_works(self, text: str, per_page: int = 10) -> list[dict]: ...
    def single_work(self, work_id: str, select: list[str] | None = None) -> dict | str | None: ...
    def citing_works(self, work_id: str, limit: int, select: list[str] | None = None) -> list[dict]: ...


Progress = Callable[[str, int], Callable[[int], None]]


def no_progress(_phase: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


@dataclass
class EnrichOptions:
    citing: int = 0
    depth: int = 1
    workers: int = 4
    search_candidates: int = 10


@dataclass
class EnrichSummary:
    papers: int = 0
    matched: int = 0
    unmatched: list[tuple[FeedPaper, Resolution]] = field(default_factory=list)
    ambiguous: int = 0
    works_stored: int = 0
    seconds: float = 0.0


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


class Enricher:
    def __init__(self, source: Source, store: Store, options: EnrichOptions | None = None,
                 progress: Progress = no_progress):
        self.source = source
        self.store = store
        self.options = options or EnrichOptions()
        self.progress = progress

    def run(self, papers: list[FeedPaper]) -> EnrichSummary:
        started = time.monotonic()
        self.store.add_feed(papers)
        done = self.store.resolutions()
        pending = [p for p in papers if p.key not in done]
        leftovers = self._resolve_by_identifiers(pending)
        self._resolve_by_search([p for p in leftovers if p.title])
        self._give_up([p for p in leftovers if not p.title])
        feed_ids = sorted({r.work_id for r in self.store.resolutions().values() if r.work_id})
        self._hydrate_feed_works(feed_ids)
        self._fetch_references(feed_ids)
        if self.options.citing > 0:
            self._fetch_citing(feed_ids)
        return self._summary(papers, time.monotonic() - started)

    # -- resolution ----------------------------------------------------------------

    def _resolve_by_identifiers(self, papers: list[FeedPaper]) -> list[FeedPaper]:
        """Resolve papers carrying OpenAlex ids, DOIs or arXiv ids; return the rest."""
        by_openalex = [p for p in papers if p.openalex_id]
        by_doi = [p for p in papers if not p.openalex_id and (p.doi or p.arxiv_id)]
        rest = [p for p in papers if not (p.openalex_id or p.doi or p.arxiv_id)]

        found = self._batched("Resolving OpenAlex ids", [full_id(p.openalex_id) for p in by_openalex],
                              lambda batch: self.source.works_by_ids(batch), lambda r: [r["id"]])
        rest += self._accept(by_openalex, lambda p: found.get(full_id(p.openalex_id), []), lambda p: "openalex_id")

        dois = [bare_doi(p.doi) if p.doi else arxiv_doi(p.arxiv_id) for p in by_doi]
        found = self._batched("Resolving DOIs and arXiv ids", dois, self.source.works_by_dois,
                              lambda r: [bare_doi(r.get("doi"))])
        missed = self._accept(by_doi, lambda p: found.get(bare_doi(p.doi) if p.doi else arxiv_doi(p.arxiv_id), []),
                              lambda p: "doi" if p.doi else "arxiv_doi")
        by_arxiv = [p for p in missed if p.arxiv_id]
        found = self._batched("Resolving arXiv locations", [p.arxiv_id.lower() for p in by_arxiv],
                              self.source.works_by_arxiv, lambda r: sorted(arxiv_ids_of(r)), ARXIV_IDS_PER_CALL)
        rest += [p for p in missed if not p.arxiv_id]
        rest += self._accept(by_arxiv, lambda p: found.get(p.arxiv_id.lower(), []), lambda p: "arxiv_location")
        return rest

    def _batched(self, phase: str, keys: list[str], fetch: Callable[[list[str]], list[dict]],
                 keys_of: Callable[[dict], list[str]], per_call: int = MAX_PER_CALL) -> dict[str, list[dict]]:
        """Look keys up 100 per call; map each key to the records that carry it."""
        found: dict[str, list[dict]] = {}
        unique = sorted(set(keys))
        advance = self.progress(phase, len(unique))
        for batch, records in in_parallel(chunks(unique, per_call), fetch, self.options.workers):
            for record in records:
                for key in keys_of(record):
                    found.setdefault(key, []).append(record)
            advance(len(batch))
        return found

    def _accept(self, papers: list[FeedPaper], records_of: Callable[[FeedPaper], list[dict]],
                method_of: Callable[[FeedPaper], str]) -> list[FeedPaper]:
        """Store the papers an identifier resolved, in one transaction; return the others."""
        resolutions, records, unresolved = [], [], []
        for paper in papers:
            resolution = match_by_identifier(paper, records_of(paper), method_of(paper))
            if resolution is None:
                unresolved.append(paper)
            else:
                resolutions.append(resolution)
                records.extend(r for r in records_of(paper) if r["id"] == resolution.work_id)
        self.store.save_works(records, "feed", complete=True)
        self.store.save_resolutions(resolutions)
        return unresolved

    def _resolve_by_search(self, papers: list[FeedPaper]) -> None:
        advance = self.progress("Searching titles", len(papers))
        search = lambda p: self.source.search_works(" ".join(normalise_title(p.title).split()[:30]),
                                                     self.options.search_candidates)
        for paper, candidates in in_parallel(papers, search, self.options.workers):
            resolution = choose(paper, candidates)
            chosen = [r for r in candidates if r["id"] == resolution.work_id]
            self.store.save_works(chosen, "feed", complete=True)
            self.store.save_resolutions([resolution])
            advance(1)

    def _give_up(self, papers: list[FeedPaper]) -> None:
        self.store.save_resolutions(
            Resolution(p.key, None, "identifier", None, "unmatched",
                       "identifier not found in OpenAlex and no title to search for") for p in papers)

    # -- expansion --------------------------------------------------------------------

    def _hydrate_feed_works(self, feed_ids: list[str]) -> None:
        self.store.add_role(feed_ids, "feed")
        partial = sorted(set(feed_ids) - self.store.complete_ids())
        self._hydrate("Hydrating feed works", partial, "feed", select=None)

    def _fetch_references(self, feed_ids: list[str]) -> None:
        frontier = set(feed_ids)
        for level in range(1, self.options.depth + 1):
            role = "reference" if level == 1 else f"reference{level}"
            referenced = {full_id(ref) for work_id in sorted(frontier)
                          for ref in self.store.referenced_works(work_id)}
            self._hydrate(f"References (hop {level})", sorted(referenced - self.store.known_ids()), role, GRAPH_FIELDS)
            aliases = self.store.aliases()
            frontier = {aliases.get(r, r) for r in referenced}
            self.store.add_role(sorted(frontier & self.store.stored_ids()), role)

    def _hydrate(self, phase: str, ids: list[str], role: str, select: list[str] | None) -> None:
        """Fetch works 100 per call; follow ids the batch did not return one by one (merged or gone)."""
        advance = self.progress(phase, len(ids))
        while ids:
            followups: list[str] = []
            fetch = lambda batch: self.source.works_by_ids(batch, select)
            for batch, records in in_parallel(chunks(ids), fetch, self.options.workers):
                returned = {r["id"] for r in records}
                absent = [i for i in batch if i not in returned]
                aliases, missing, extra = {}, [], []
                for work_id, answer in in_parallel(absent, lambda i: self.source.single_work(i, select), self.options.workers):
                    if isinstance(answer, str):
                        aliases[work_id] = answer
                    elif isinstance(answer, dict):
                        extra.append(answer)
                    else:
                        missing.append(work_id)
                self.store.save_works(records + extra, role, complete=select is None, aliases=aliases, missing=missing)
                followups.extend(a for a in aliases.values())
                advance(len(batch))
            ids = sorted(set(followups) - self.store.known_ids())

    def _fetch_citing(self, feed_ids: list[str]) -> None:
        todo = [w for w in feed_ids if w not in self.store.citing_done()]
        advance = self.progress("Citing works", len(todo))
        fetch = lambda work_id: self.source.citing_works(work_id, self.options.citing, GRAPH_FIELDS)
        for work_id, records in in_parallel(todo, fetch, self.options.workers):
            self.store.save_citing(work_id, self.options.citing, records)
            advance(1)

    def _summary(self, papers: list[FeedPaper], seconds: float) -> EnrichSummary:
        resolutions = self.store.resolutions()
        summary = EnrichSummary(papers=len(papers), seconds=seconds, works_stored=self.store.counts()["works"])
        for paper in papers:
            resolution = resolutions.get(paper.key)
            if resolution and resolution.work_id:
                summary.matched += 1
            elif resolution:
                summary.ambiguous += resolution.status == "ambiguous"
                summary.unmatched.append((paper, resolution))
        return summary
