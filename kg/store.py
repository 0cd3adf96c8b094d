"""The enrichment store: one SQLite file holding everything fetched.

Every batch of fetched records is written in its own transaction, so an
interrupted run loses at most the batch in flight, and the store itself says
what is still missing: a rerun asks OpenAlex only for that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kg.coverage import Coverage, record_coverage
from kg.errors import KgError
from kg.feeds import FeedPaper
from kg.follow import Followed
from kg.resolve import Resolution

SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_papers(key TEXT PRIMARY KEY, paper TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_entries(source TEXT NOT NULL, idx INTEGER NOT NULL, line INTEGER,
                                        key TEXT NOT NULL, PRIMARY KEY(source, idx));
CREATE TABLE IF NOT EXISTS resolutions(key TEXT PRIMARY KEY, work_id TEXT, method TEXT NOT NULL, score REAL,
                                       status TEXT NOT NULL, reason TEXT, alternates TEXT NOT NULL,
                                       resolved_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS works(id TEXT PRIMARY KEY, record TEXT NOT NULL, complete INTEGER NOT NULL,
                                 fetched_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roles(work_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY(work_id, role));
CREATE TABLE IF NOT EXISTS aliases(old TEXT PRIMARY KEY, new TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS missing(id TEXT PRIMARY KEY, checked_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS citing_done(work_id TEXT PRIMARY KEY, requested INTEGER NOT NULL, found INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, at TEXT NOT NULL, feeds TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sightings(key TEXT NOT NULL, run INTEGER NOT NULL, PRIMARY KEY(key, run));
CREATE TABLE IF NOT EXISTS refreshes(run INTEGER NOT NULL, work_id TEXT NOT NULL, added TEXT NOT NULL,
                                     PRIMARY KEY(run, work_id));
CREATE TABLE IF NOT EXISTS follows(kind TEXT NOT NULL, value TEXT NOT NULL, since TEXT NOT NULL, checked TEXT,
                                   PRIMARY KEY(kind, value));
CREATE TABLE IF NOT EXISTS revisions(id TEXT PRIMARY KEY, revision INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS work_stored AFTER INSERT ON works BEGIN
    INSERT INTO revisions VALUES(new.id, random()) ON CONFLICT(id) DO UPDATE SET revision = excluded.revision;
END;
CREATE TRIGGER IF NOT EXISTS work_changed AFTER UPDATE OF record ON works WHEN old.record IS NOT new.record BEGIN
    UPDATE revisions SET revision = random() WHERE id = new.id;
END;
CREATE TRIGGER IF NOT EXISTS work_removed AFTER DELETE ON works BEGIN
    DELETE FROM revisions WHERE id = old.id;
END;
"""
# `revisions` gives every stored record version a random 64-bit number, set by the triggers whichever program
# writes the record (an older kg too): `kg build` keeps the records' flat columns under these numbers
# (`kg.columns`) and parses only the records whose number it has not seen. Random rather than counted, so
# that a store restored from a backup cannot give a changed record a number already used for another text.
# Columns added after the first release; a store made before them gains them when opened.
MIGRATIONS = {("resolutions", "evidence"): "ALTER TABLE resolutions ADD COLUMN evidence TEXT",
              ("resolutions", "resolved_without"): "ALTER TABLE resolutions ADD COLUMN resolved_without TEXT",
              ("citing_done", "checked"): "ALTER TABLE citing_done ADD COLUMN checked TEXT"}
FULL, SINGLETON = 1, 2
"""How complete a stored record is: 0 a `select`-ed part, 1 a full list record (authorships may be cut at
100), 2 a full singleton record."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Run:
    """One enrichment of the store: when, which feeds, and the feed papers seen then for the first time."""

    id: int
    at: str
    feeds: list[str]
    new_keys: list[str]


@dataclass(frozen=True)
class Refresh:
    """A stored work fetched again on a later run, and what OpenAlex had added to it meanwhile."""

    run: int
    work_id: str
    added: list[str]


@dataclass(frozen=True)
class FeedEntry:
    """One entry of one feed: where it stands (feed, 0-based index, 1-based line when known) and its paper."""

    feed: str
    index: int
    line: int | None
    key: str


def _seen_again(known: FeedPaper, sighting: FeedPaper) -> FeedPaper:
    """A paper seen again: its newest upvote count wins, gaps are filled, every provenance is kept."""
    merged = dataclasses.replace(known, provenance=list(known.provenance))
    for f in dataclasses.fields(FeedPaper):
        new = getattr(sighting, f.name)
        if f.name == "provenance":
            merged.provenance.extend(p for p in new if p not in known.provenance)
        elif f.name == "upvotes" and new is not None:
            merged.upvotes = new
        elif new and not getattr(merged, f.name):
            setattr(merged, f.name, new)
    return merged


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes: the store may sit on read-only media or belong to someone else."""
    if not path.is_file():
        raise KgError(f"no enrichment store at {path}: run `kg enrich FEED...` first (or pass --store)")
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:  # a WAL store in a folder where SQLite cannot even make its shared memory
        try:
            return sqlite3.connect(f"{uri}?immutable=1", uri=True)
        except sqlite3.Error as error:
            raise KgError(f"cannot read the store {path} ({error})") from None
    except sqlite3.DatabaseError as error:
        raise KgError(f"{path} is not a kg store ({error})") from None


class Store:
    """The enrichment store. Reading commands open it with `read_only=True`: nothing is ever written then."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = path
        if read_only:
            self.db = _open_read_only(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            numbered = self._has("revisions")
            self.db.executescript(SCHEMA)
            if not numbered:  # a store made before revisions: its records get theirs now, once
                with self.db:
                    self.db.execute("INSERT OR IGNORE INTO revisions SELECT id, random() FROM works")
            for (table, column), statement in MIGRATIONS.items():
                if column not in self._columns(table):
                    self.db.execute(statement)

    def _has(self, table: str) -> bool:
        """Whether the store has this table (a store made by an older kg, opened read-only, may lack it)."""
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- feed --------------------------------------------------------------------

    def add_feed(self, papers: list[FeedPaper]) -> None:
        with self.db:
            for paper in papers:
                row = self.db.execute("SELECT paper FROM feed_papers WHERE key=?", (paper.key,)).fetchone()
                if row:
                    paper = _seen_again(FeedPaper.from_json(json.loads(row[0])), paper)
                self.db.execute("INSERT OR REPLACE INTO feed_papers VALUES(?,?)",
                                (paper.key, json.dumps(paper.to_json(), ensure_ascii=False, sort_keys=True)))
                for prov in paper.provenance:
                    self.db.execute("INSERT OR REPLACE INTO feed_entries VALUES(?,?,?,?)",
                                    (prov.source, prov.index, prov.line, paper.key))

    def feed_papers(self) -> list[FeedPaper]:
        rows = self.db.execute("SELECT paper FROM feed_papers ORDER BY key")
        return [FeedPaper.from_json(json.loads(r[0])) for r in rows]

    def feed_entries(self) -> list[FeedEntry]:
        """Every entry of every feed, in feed and entry order, with the key of the paper it is."""
        rows = self.db.execute("SELECT source, idx, line, key FROM feed_entries ORDER BY source, idx")
        return [FeedEntry(*row) for row in rows]

    # -- runs -----------------------------------------------------------------------

    def start_run(self, papers: list[FeedPaper], at: str | None = None) -> int:
        """Record an enrichment run and the papers its feeds showed; return the run's number."""
        feeds = sorted({p.source for paper in papers for p in paper.provenance})
        with self.db:
            cursor = self.db.execute("INSERT INTO runs(at, feeds) VALUES(?,?)", (at or _now(), json.dumps(feeds)))
            run = int(cursor.lastrowid or 0)
            self.db.executemany("INSERT OR IGNORE INTO sightings VALUES(?,?)", [(p.key, run) for p in papers])
        return run

    def runs(self) -> list[Run]:
        """Every run in order, each with the feed papers first seen in it."""
        if not self._has("runs"):
            return []
        first: dict[int, list[str]] = {}
        for key, run in self.db.execute("SELECT key, MIN(run) FROM sightings GROUP BY key ORDER BY key"):
            first.setdefault(run, []).append(key)
        return [Run(run, at, json.loads(feeds), first.get(run, []))
                for run, at, feeds in self.db.execute("SELECT id, at, feeds FROM runs ORDER BY id")]

    def sightings(self) -> dict[str, list[str]]:
        """When each feed paper was seen: the times of the runs whose feeds showed it."""
        seen: dict[str, list[str]] = {}
        if not self._has("runs"):
            return seen
        for key, at in self.db.execute("SELECT s.key, r.at FROM sightings s JOIN runs r ON r.id=s.run "
                                       "ORDER BY s.key, s.run"):
            seen.setdefault(key, []).append(at)
        return seen

    def sight(self, run: int, keys: Iterable[str]) -> None:
        """Record feed papers as seen in this run (a work found by following is seen when it is found)."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO sightings VALUES(?,?)", [(k, run) for k in keys])

    def save_refresh(self, run: int, work_id: str, added: list[str]) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO refreshes VALUES(?,?,?)", (run, work_id, json.dumps(added)))

    def refreshes(self) -> list[Refresh]:
        if not self._has("refreshes"):
            return []
        return [Refresh(run, work_id, json.loads(added)) for run, work_id, added in
                self.db.execute("SELECT run, work_id, added FROM refreshes ORDER BY run, work_id")]

    def incomplete_fetched_before(self, work_ids: Iterable[str], moment: str) -> list[str]:
        """Of these works, those fetched before this ISO time whose record lists no references or no abstract:
        OpenAlex fills both in over the days after it first indexes a preprint."""
        wanted = set(work_ids)
        rows = self.db.execute(
            "SELECT id FROM works WHERE fetched_at < ? AND (COALESCE(json_array_length(record, '$.referenced_works'), 0)"
            " = 0 OR json_extract(record, '$.abstract_inverted_index') IS NULL)", (moment,))
        return sorted(r[0] for r in rows if r[0] in wanted)

    def feed_coverage(self) -> dict[str, tuple[str, Coverage | None]]:
        """Per feed paper: its resolution status and, when matched, how complete its stored record is."""
        found: dict[str, tuple[str, Coverage | None]] = {}
        resolutions = self.resolutions()
        for (key,) in self.db.execute("SELECT key FROM feed_papers ORDER BY key"):
            resolution = resolutions.get(key)
            record = self.record(resolution.work_id) if resolution and resolution.work_id else None
            found[key] = (resolution.status if resolution else "pending", record_coverage(record) if record else None)
        return found

    def entries_per_feed(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT source, COUNT(*) FROM feed_entries GROUP BY source ORDER BY source"))

    def entries_of(self, source: str) -> int:
        """How many entries a feed (or a followed item, `follow:…`) has: the index its next entry gets."""
        return self.db.execute("SELECT COUNT(*) FROM feed_entries WHERE source=?", (source,)).fetchone()[0]

    # -- follows -------------------------------------------------------------------

    def follow(self, items: Iterable[Followed]) -> list[Followed]:
        """Follow these items; return the ones that were not followed yet (the others keep their window)."""
        added = []
        with self.db:
            for item in items:
                cursor = self.db.execute("INSERT OR IGNORE INTO follows VALUES(?,?,?,NULL)",
                                         (item.kind, item.value, item.since))
                if cursor.rowcount:
                    added.append(item)
        return added

    def unfollow(self, kind: str, value: str) -> bool:
        with self.db:
            return self.db.execute("DELETE FROM follows WHERE kind=? AND value=?", (kind, value)).rowcount > 0

    def follows(self) -> list[Followed]:
        if not self._has("follows"):
            return []
        return [Followed(*row) for row in
                self.db.execute("SELECT kind, value, since, checked FROM follows ORDER BY kind, value")]

    def checked(self, items: Iterable[Followed], day: str) -> None:
        """Record a finished check of these items: the next one starts from this day (less the indexing lag)."""
        with self.db:
            self.db.executemany("UPDATE follows SET checked=? WHERE kind=? AND value=?",
                                [(day, i.kind, i.value) for i in items])

    # -- resolutions ----------------------------------------------------------------

    def save_resolutions(self, resolutions: Iterable[Resolution]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO resolutions(key, work_id, method, score, status, reason, alternates, "
                "resolved_at, evidence, resolved_without) VALUES(?,?,?,?,?,?,?,?,?,?)",
                [(r.key, r.work_id, r.method, r.score, r.status, r.reason, json.dumps(r.alternates), _now(),
                  r.evidence, json.dumps(r.resolved_without) if r.resolved_without else None) for r in resolutions])

    def resolutions(self) -> dict[str, Resolution]:
        columns = self._columns("resolutions")  # a store older than a column, opened read-only, lacks it
        extra = ", ".join(c if c in columns else "NULL" for c in ("evidence", "resolved_without"))
        rows = self.db.execute(f"SELECT key, work_id, method, score, status, reason, alternates, {extra} FROM resolutions")
        return {r[0]: Resolution(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], json.loads(r[8] or "[]"))
                for r in rows}

    def resolved_without_a_service(self) -> set[str]:
        """Keys of feed papers left unresolved while an optional service was failing: the next run asks again."""
        if "resolved_without" not in self._columns("resolutions"):
            return set()
        rows = self.db.execute("SELECT key FROM resolutions WHERE work_id IS NULL AND resolved_without IS NOT NULL")
        return {r[0] for r in rows}

    def pending_checked_before(self, moment: str) -> set[str]:
        """Keys of feed papers not (yet) in OpenAlex that were last looked for before this ISO time."""
        rows = self.db.execute("SELECT key FROM resolutions WHERE status='pending' AND resolved_at < ?", (moment,))
        return {r[0] for r in rows}

    # -- works --------------------------------------------------------------------------

    def save_works(self, records: Iterable[dict], role: str, complete: int,
                   aliases: dict[str, str] | None = None, missing: Iterable[str] = ()) -> None:
        """Write one fetched batch atomically; a full record never gets replaced by a partial one."""
        now = _now()
        with self.db:
            for record in records:
                self.db.execute(
                    "INSERT INTO works VALUES(?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                    "record=excluded.record, complete=excluded.complete, fetched_at=excluded.fetched_at "
                    "WHERE excluded.complete >= works.complete",
                    (record["id"], json.dumps(record, ensure_ascii=False), int(complete), now))
                self.db.execute("INSERT OR IGNORE INTO roles VALUES(?,?)", (record["id"], role))
            self.db.executemany("INSERT OR REPLACE INTO aliases VALUES(?,?)", sorted((aliases or {}).items()))
            self.db.executemany("INSERT OR IGNORE INTO missing VALUES(?,?)", [(m, now) for m in missing])

    def add_role(self, work_ids: Iterable[str], role: str) -> None:
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO roles VALUES(?,?)", [(w, role) for w in work_ids])

    def known_ids(self) -> set[str]:
        """Ids that need no fetching: stored works, merged-away ids and ids OpenAlex does not know."""
        ids = self.stored_ids()
        ids |= {r[0] for r in self.db.execute("SELECT old FROM aliases")}
        ids |= {r[0] for r in self.db.execute("SELECT id FROM missing")}
        return ids

    def stored_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM works")}

    def complete_ids(self, at_least: int = FULL) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM works WHERE complete>=?", (at_least,))}

    def cut_authorships(self, work_ids: Iterable[str]) -> list[str]:
        """Of these works, those whose stored list record may have cut authorships (exactly 100, or flagged)."""
        wanted = set(work_ids)
        rows = self.db.execute("SELECT id FROM works WHERE complete<? AND (json_array_length(record, '$.authorships')"
                               " >= 100 OR json_extract(record, '$.is_authors_truncated'))", (SINGLETON,))
        return sorted(r[0] for r in rows if r[0] in wanted)

    def record(self, work_id: str) -> dict | None:
        row = self.db.execute("SELECT record FROM works WHERE id=?", (work_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def aliases(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT old, new FROM aliases ORDER BY old"))

    def works(self, role: str | None = None) -> Iterator[dict]:
        """Stored work records in id order (streamed, for large stores)."""
        if role:
            rows = self.db.execute("SELECT w.record FROM works w JOIN roles r ON r.work_id=w.id "
                                   "WHERE r.role=? ORDER BY w.id", (role,))
        else:
            rows = self.db.execute("SELECT record FROM works ORDER BY id")
        for (record,) in rows:
            yield json.loads(record)

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """One consistent view of the store across several reads, while a `kg enrich` may be writing to it."""
        self.db.execute("BEGIN")
        try:
            yield self
        finally:
            self.db.execute("COMMIT")

    def work_revisions(self) -> list[tuple[str, int | None]]:
        """Every stored work's id and revision (`revisions`), in id order; None for every revision of a store
        made before revisions and not opened for writing since."""
        if not self._has("revisions"):
            return self.db.execute("SELECT id, NULL FROM works ORDER BY id").fetchall()
        return self.db.execute("SELECT w.id, r.revision FROM works w LEFT JOIN revisions r USING (id) "
                               "ORDER BY w.id").fetchall()

    def work_texts(self, ids: list[str] | None = None) -> Iterator[tuple[str, int | None, str]]:
        """Stored work records (id, revision, JSON text) in id order, for a parser that is not Python's: all of
        them, or those with these ids. The revision is read with the text, so the two always belong together."""
        revision = "r.revision" if self._has("revisions") else "NULL"
        joined = "works w LEFT JOIN revisions r USING (id)" if self._has("revisions") else "works w"
        if ids is None:
            yield from self.db.execute(f"SELECT w.id, {revision}, w.record FROM {joined} ORDER BY w.id")
        else:
            yield from self.db.execute(f"SELECT w.id, {revision}, w.record FROM {joined} "
                                       "WHERE w.id IN (SELECT value FROM json_each(?)) ORDER BY w.id",
                                       (json.dumps(ids),))

    def referenced_works(self, work_id: str) -> list[str]:
        row = self.db.execute("SELECT json_extract(record, '$.referenced_works') FROM works WHERE id=?",
                              (work_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else []

    def roles(self) -> dict[str, set[str]]:
        roles: dict[str, set[str]] = {}
        for work_id, role in self.db.execute("SELECT work_id, role FROM roles"):
            roles.setdefault(work_id, set()).add(role)
        return roles

    def citing_done(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT work_id FROM citing_done")}

    def save_citing(self, work_ids: list[str], requested: int, records: list[dict], day: str | None = None) -> None:
        """Store the citing works of a batch of works and mark the batch done (on `day`), in one transaction."""
        found = {w: sum(1 for r in records if w in (r.get("referenced_works") or [])) for w in work_ids}
        with self.db:
            self._insert_citing(records)
            self.db.executemany("INSERT OR REPLACE INTO citing_done(work_id, requested, found, checked) "
                                "VALUES(?,?,?,?)", [(w, requested, found[w], day) for w in work_ids])

    def add_citing(self, work_ids: list[str], records: list[dict], day: str) -> None:
        """Store works newly citing a batch of works (a refresh) and record the day it was checked."""
        new = [r for r in records if r["id"] not in self.stored_ids()]
        found = {w: sum(1 for r in new if w in (r.get("referenced_works") or [])) for w in work_ids}
        with self.db:
            self._insert_citing(new)
            self.db.executemany("UPDATE citing_done SET found=found+?, checked=? WHERE work_id=?",
                                [(found[w], day, w) for w in work_ids])

    def _insert_citing(self, records: list[dict]) -> None:
        now = _now()
        for record in records:
            self.db.execute("INSERT INTO works VALUES(?,?,0,?) ON CONFLICT(id) DO NOTHING",
                            (record["id"], json.dumps(record, ensure_ascii=False), now))
            self.db.execute("INSERT OR IGNORE INTO roles VALUES(?,?)", (record["id"], "citing"))

    def citing_checked(self) -> dict[str, str | None]:
        """Per work whose citing works were fetched: the day they were last asked for (None: before kg kept it)."""
        column = "checked" if "checked" in self._columns("citing_done") else "NULL"
        return dict(self.db.execute(f"SELECT work_id, {column} FROM citing_done"))

    def counts(self) -> dict[str, int]:
        tables = ["feed_papers", "feed_entries", "resolutions", "works", "aliases", "missing", "runs"]
        return {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables if self._has(t)}
