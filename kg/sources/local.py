"""OpenAlex records read from local JSON Lines, answering the questions the API answers.

Two layouts are read: flat `works*.jsonl[.gz]` files, and the OpenAlex
snapshot's `data/works/updated_date=*/part_*` with its `data/merged_ids/`.
Unlike the API, a snapshot still says which id a merged one became, so
`merged_into` maps them. Nothing here costs anything; the ledger only counts.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from kg.errors import SourceError
from kg.ids import arxiv_ids_of, bare_doi, full_id, ids_under
from kg.sources.http import Ledger
from kg.text import normalise_title

MERGED_ENTITIES = ("works", "authors", "institutions", "sources")


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise SourceError(f"{path}:{number}: not a JSON object; is this an OpenAlex snapshot file?") from None


def snapshot_files(root: Path, entity: str) -> list[Path]:
    """Files of one entity: flat `works*.jsonl[.gz]` or the snapshot's `data/works/updated_date=*/part_*`."""
    flat = sorted(p for p in root.glob(f"{entity}*.jsonl*") if p.is_file())
    nested = sorted(p for p in (root / "data" / entity).glob("updated_date=*/part_*") if p.is_file())
    return flat + nested


def merged_ids(root: Path, entities: Iterable[str] = MERGED_ENTITIES) -> dict[str, str]:
    """Merged ids (old → surviving id) from the snapshot's `data/merged_ids/{works,authors,…}/*.csv.gz`.

    OpenAlex ids carry their entity type (W…, A…, I…, S…), so one map serves all.
    """
    aliases = {}
    folder = root / "data" / "merged_ids"
    for path in sorted(path for entity in entities for path in (folder / entity).glob("*.csv*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                aliases[full_id(row["id"])] = full_id(row["merge_into_id"])
    return aliases


class Snapshot:
    """OpenAlex works read from local JSON Lines, answering like the API does."""

    name = "snapshot"

    def __init__(self, root: Path):
        if not root.is_dir():
            raise SourceError(f"--snapshot {root}: no such directory")
        files = snapshot_files(root, "works")
        if not files:
            raise SourceError(f"--snapshot {root}: no works*.jsonl[.gz] or data/works/ files found")
        self.stats = Ledger({})
        self.works: dict[str, dict] = {}
        for path in files:
            for record in read_jsonl(path):
                self.works[full_id(record["id"])] = record
        self.merged = {full_id(r["old"]): full_id(r["new"]) for p in sorted(root.glob("merged*.jsonl")) for r in read_jsonl(p)}
        self.merged |= merged_ids(root, ["works"])
        self.by_doi: dict[str, list[str]] = {}
        self.by_arxiv: dict[str, list[str]] = {}
        self.by_title: dict[str, list[str]] = {}
        self.by_token: dict[str, set[str]] = {}
        for work_id, record in self.works.items():
            if doi := bare_doi(record.get("doi")):
                self.by_doi.setdefault(doi, []).append(work_id)
            for arxiv in arxiv_ids_of(record):
                self.by_arxiv.setdefault(arxiv, []).append(work_id)
            title = normalise_title(record.get("title") or record.get("display_name") or "")
            self.by_title.setdefault(title, []).append(work_id)
            for token in set(title.split()):
                self.by_token.setdefault(token, set()).add(work_id)
        self.citers: dict[str, list[str]] = {}
        for citing_id in sorted(self.works):
            for ref in self.works[citing_id].get("referenced_works") or []:
                self.citers.setdefault(full_id(ref), []).append(citing_id)

    def close(self) -> None:
        pass

    def _answer(self, kind: str, records: Iterable[dict], select: list[str] | None = None) -> list[dict]:
        self.stats.counts[kind] += 1
        return [{k: r[k] for k in select if k in r} if select else r for r in records]

    def works_by_ids(self, ids: list[str], select: list[str] | None = None) -> list[dict]:
        return self._answer("list", (self.works[full_id(i)] for i in ids if full_id(i) in self.works), select)

    def works_by_dois(self, dois: list[str]) -> list[dict]:
        return self._answer("list", (self.works[w] for d in dois for w in self.by_doi.get(bare_doi(d) or "", [])))

    def works_by_landing_pages(self, urls: list[str]) -> list[dict]:
        """Every arXiv location is indexed by its id, whatever its URL form: any form finds the work."""
        ids = sorted({a for url in urls for a in arxiv_ids_of({"locations": [{"landing_page_url": url}]})})
        return self._answer("list", (self.works[w] for a in ids for w in self.by_arxiv.get(a, [])))

    def work_by_doi(self, doi: str) -> dict | None:
        found = self._answer("singleton", (self.works[w] for w in self.by_doi.get(bare_doi(doi) or "", [])[:1]))
        return found[0] if found else None

    def _ranked(self, text: str, limit: int) -> list[str]:
        """Works ranked by shared title tokens, rarer tokens weighing more: a local stand-in for relevance."""
        scores: dict[str, float] = {}
        for token in set(normalise_title(text).split()):
            postings = self.by_token.get(token, ())
            if len(postings) > 2000:
                continue
            for work_id in postings:
                scores[work_id] = scores.get(work_id, 0.0) + 1.0 / (1 + len(postings))
        return [w for w, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]

    def autocomplete(self, text: str) -> list[dict]:
        hits = self._ranked(text, 10)
        return self._answer("autocomplete", ({"id": w, "display_name": self.works[w].get("display_name")
                                              or self.works[w].get("title")} for w in hits))

    def search_titles(self, text: str, per_page: int = 5) -> list[dict]:
        return self._answer("search", (self.works[w] for w in self._ranked(text, per_page)))

    def single_work(self, work_id: str, select: list[str] | None = None) -> dict | None:
        record = self.works.get(full_id(work_id))
        found = self._answer("singleton", [record] if record else [], select)
        return found[0] if found else None

    def citing_works(self, work_ids: list[str], per_work: int, select: list[str] | None = None) -> list[dict]:
        chosen = sorted({c for w in work_ids for c in self.citers.get(full_id(w), [])[:per_work]})
        return self._answer("list", (self.works[c] for c in chosen), select)

    def works_since(self, filter_key: str, values: list[str], since: str) -> list[dict]:
        """Works published from `since` matching the filter, found by reading every record: a snapshot that
        fits on one machine is read in seconds. A query matches a title and abstract holding all its words."""
        def matches(record: dict) -> bool:
            if filter_key.endswith(".search"):
                words = set(normalise_title(" ".join(values)).split())
                text = " ".join([record.get("display_name") or "", *(record.get("abstract_inverted_index") or {})])
                return bool(words) and words <= set(normalise_title(text).split())
            return not ids_under(record, filter_key).isdisjoint(values)
        kind = "search" if filter_key.endswith(".search") else "list"
        return self._answer(kind, (self.works[w] for w in sorted(self.works)
                                   if (self.works[w].get("publication_date") or "") >= since and matches(self.works[w])))

    def merged_into(self, ids: list[str]) -> dict[str, str]:
        return {full_id(i): self.merged[full_id(i)] for i in ids if full_id(i) in self.merged}

