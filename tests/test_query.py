"""The SPARQL query library, checked against answers computed in plain Python from the stored records.

Every library query runs on the demo export (real OpenAlex records), embedded
and on a real `oxigraph serve` started here; both must give the expected rows.
"""

import json
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
import requests

from conftest import ROOT, kg
from kg.errors import QueryError
from kg.ids import full_id
from kg.publish import publish
from kg.query import Embedded, Endpoint, bind, find_query, library
from kg.store import Store

OXIGRAPH = Path(sys.executable).parent / "oxigraph"


def short(value: str | None) -> str | None:
    return value.rsplit("/", 1)[-1] if value else value


class Facts:
    """The demo store as plain dictionaries: what each query's answer is derived from."""

    def __init__(self, store_path: Path):
        with Store(store_path) as store:
            aliases = store.aliases()
            self.records = {short(r["id"]): r for r in store.works()}
            resolutions = store.resolutions()
            papers = store.feed_papers()
        self.feed = {short(r.work_id) for r in resolutions.values() if r.work_id}
        self.upvotes = {}
        for paper in papers:
            resolution = resolutions.get(paper.key)
            if resolution and resolution.work_id and paper.upvotes is not None:
                work = short(resolution.work_id)
                self.upvotes[work] = max(self.upvotes.get(work, 0), paper.upvotes)
        self.refs = {w: {short(aliases.get(full_id(x), full_id(x))) for x in r.get("referenced_works") or []}
                     for w, r in self.records.items()}

    def authorships(self, work):
        for position, a in enumerate(self.records[work].get("authorships") or [], start=1):
            if (a.get("author") or {}).get("id"):
                yield position, a

    def authors(self, work) -> set[str]:
        return {short(a["author"]["id"]) for _, a in self.authorships(work)}

    def names(self, kind) -> dict[str, str]:
        """Smallest display name per entity, as the queries' MIN() picks one."""
        names = defaultdict(set)
        for work in self.records:
            for _, a in self.authorships(work):
                if kind == "author" and a["author"].get("display_name"):
                    names[short(a["author"]["id"])].add(a["author"]["display_name"])
                for i in a.get("institutions") or []:
                    if kind == "institution" and i.get("id") and i.get("display_name"):
                        names[short(i["id"])].add(i["display_name"])
        return {k: min(v) for k, v in names.items()}

    def title(self, work):
        record = self.records.get(work)
        return record and (record.get("title") or record.get("display_name"))

    def year(self, work):
        record = self.records.get(work)
        return str(record["publication_year"]) if record and record.get("publication_year") is not None else None


def top(items, key, limit=None):
    ordered = sorted(items, key=key)
    return ordered[:limit] if limit else ordered


@pytest.fixture(scope="module")
def demo(demo_export):
    return demo_export, Facts(demo_export / "kg-store.sqlite")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    """A real Oxigraph SPARQL server on 127.0.0.1 (the `oxigraph` package's own binary)."""
    port = free_port()
    process = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(tmp_path_factory.mktemp("oxigraph")),
                                "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/query", params={"query": "ASK {}"}, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("oxigraph serve did not start: " + process.stderr.read().decode())
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def published(demo, oxigraph_server):
    out, _ = demo
    publish(out, oxigraph_server + "/store", graph=None)
    return oxigraph_server + "/query"


def rows(results):
    return [tuple(short(row[v]["value"]) if row.get(v, {}).get("type") == "uri" else row.get(v, {}).get("value")
                  for v in results.variables) for row in results.rows]


def unordered_lists(table):
    """GROUP_CONCAT's order is the engine's choice (SPARQL has no ordered GROUP_CONCAT): sort its parts."""
    return [tuple(" | ".join(sorted(v.split(" | "))) if isinstance(v, str) and " | " in v else v for v in row)
            for row in table]


def expected_rows(name: str, facts: Facts, params: dict) -> list[tuple]:
    feed, refs = facts.feed, facts.refs
    count = lambda n: str(n)  # noqa: E731 - SPARQL returns counts as integer literals
    if name == "feed-papers-by-citations":
        return top([(w, facts.title(w), facts.year(w), str(facts.records[w]["cited_by_count"]),
                     str(facts.upvotes[w]) if w in facts.upvotes else None) for w in feed],
                   key=lambda r: (-int(r[3]), r[0]))
    if name == "prolific-authors":
        papers, institutions = defaultdict(set), defaultdict(set)
        for w in feed:
            for _, a in facts.authorships(w):
                author = short(a["author"]["id"])
                papers[author].add(w)
                institutions[author] |= {i["display_name"] for i in a.get("institutions") or []
                                         if i.get("id") and i.get("display_name")}
        names = facts.names("author")
        return top([(a, names.get(a), count(len(ws)), " | ".join(sorted(institutions[a])) or None)
                    for a, ws in papers.items()], key=lambda r: (-int(r[2]), r[0]), limit=25)
    if name == "coauthor-pairs":
        pairs = defaultdict(int)
        for w in feed:
            authors = sorted(facts.authors(w))
            for i, a in enumerate(authors):
                for b in authors[i + 1:]:
                    pairs[a, b] += 1
        names = facts.names("author")
        return top([(a, names.get(a), b, names.get(b), count(n)) for (a, b), n in pairs.items()],
                   key=lambda r: (-int(r[4]), r[0], r[2]), limit=50)
    if name in ("feed-institutions", "feed-countries"):
        papers, authors, country = defaultdict(set), defaultdict(set), {}
        for w in feed:
            for _, a in facts.authorships(w):
                for i in a.get("institutions") or []:
                    if i.get("id"):
                        papers[short(i["id"])].add(w)
                        authors[short(i["id"])].add(short(a["author"]["id"]))
                        if i.get("country_code"):
                            country[short(i["id"])] = i["country_code"]
        if name == "feed-countries":
            by_country, institutions = defaultdict(set), defaultdict(set)
            for institution, ws in papers.items():
                if institution in country:
                    by_country[country[institution]] |= ws
                    institutions[country[institution]].add(institution)
            return top([(c, count(len(ws)), count(len(institutions[c]))) for c, ws in by_country.items()],
                       key=lambda r: (-int(r[1]), r[0]))
        names = facts.names("institution")
        return top([(i, names.get(i), country.get(i), count(len(ws)), count(len(authors[i])))
                    for i, ws in papers.items()], key=lambda r: (-int(r[3]), -int(r[4]), r[0]))
    if name == "feed-venues":
        papers, names = defaultdict(set), {}
        for w in feed:
            source = (facts.records[w].get("primary_location") or {}).get("source") or {}
            if source.get("id"):
                papers[short(source["id"])].add(w)
                names[short(source["id"])] = source.get("display_name")
        return top([(s, names[s], count(len(ws))) for s, ws in papers.items()], key=lambda r: (-int(r[2]), r[0]))
    if name == "feed-citations":
        return sorted((w, facts.title(w), r, facts.title(r)) for w in feed for r in refs[w] if r in feed)
    if name == "shared-references":
        both = refs[params["work1"]] & refs[params["work2"]]
        return sorted((r, facts.title(r), facts.year(r)) for r in both)
    if name == "feed-foundations":
        citers = defaultdict(set)
        for w in feed:
            for r in refs[w]:
                citers[r].add(w)
        return top([(r, facts.title(r), facts.year(r), count(len(ws))) for r, ws in citers.items() if len(ws) >= 2],
                   key=lambda row: (-int(row[3]), row[0]), limit=25)
    if name == "citation-path":
        def reach(start, step, hops=2):
            """Every work at most `hops` citation steps from `start` (itself included)."""
            seen, frontier = {start}, {start}
            for _ in range(hops):
                frontier = {nxt for w in frontier for nxt in step(w)} - seen
                seen |= frontier
            return seen
        cited_by = defaultdict(set)
        for w, rs in refs.items():
            for r in rs:
                cited_by[r].add(w)
        on_path = reach(params["from"], lambda w: refs.get(w, ())) & reach(params["to"], lambda w: cited_by[w])
        return top([(w, facts.title(w), facts.year(w)) for w in on_path],
                   key=lambda r: (r[2] is None, -int(r[2] or 0), r[0]))
    if name == "feed-topics":
        papers, labels = defaultdict(set), {}
        for w in feed:
            record = facts.records[w]
            for topic in (record.get("topics") or []) + [record.get("primary_topic") or {}]:
                if topic.get("id"):
                    papers[short(topic["id"])].add(w)
                    labels[short(topic["id"])] = topic.get("display_name")
        return top([(t, labels[t], count(len(ws))) for t, ws in papers.items()], key=lambda r: (-int(r[2]), r[0]))
    if name == "new-authors":
        elsewhere = {a for w in facts.records if w not in feed for a in facts.authors(w)}
        papers = defaultdict(set)
        for w in feed:
            for a in facts.authors(w) - elsewhere:
                papers[a].add(w)
        names = facts.names("author")
        return top([(a, names.get(a), count(len(ws))) for a, ws in papers.items()], key=lambda r: (-int(r[2]), r[0]))
    if name == "works-per-year":
        works, feed_works = defaultdict(int), defaultdict(int)
        for w, record in facts.records.items():
            if record.get("publication_year") is not None:
                works[record["publication_year"]] += 1
                feed_works[record["publication_year"]] += w in feed
        return [(str(y), count(works[y]), count(feed_works[y])) for y in sorted(works)]
    if name == "find-papers":
        text = params["text"].lower()
        return sorted((w, facts.title(w), facts.year(w)) for w in facts.records
                      if facts.title(w) is not None and text in facts.title(w).lower())
    if name == "author-works":
        return top([(w, facts.title(w), facts.year(w), str(position)) for w in facts.records
                    for position, a in facts.authorships(w) if short(a["author"]["id"]) == params["author"]],
                   key=lambda r: (r[2] is None, -int(r[2] or 0), r[0], int(r[3])))
    raise AssertionError(f"no expectation written for library query {name}")


def parameters_for(name: str, facts: Facts) -> dict:
    """Parameter values that give a non-trivial answer on the demo graph."""
    feed = sorted(facts.feed)
    if name == "shared-references":
        a, b = max(((a, b) for a in feed for b in feed if a < b),
                   key=lambda pair: (len(facts.refs[pair[0]] & facts.refs[pair[1]]), pair))
        return {"work1": a, "work2": b}
    if name == "citation-path":
        for start in feed:
            for middle in sorted(facts.refs[start]):
                if middle in facts.records and facts.refs[middle]:
                    return {"from": start, "to": sorted(facts.refs[middle])[0]}
    if name == "find-papers":
        return {"text": "Learning"}
    if name == "author-works":
        counts = defaultdict(int)
        for w in facts.records:
            for a in facts.authors(w):
                counts[a] += 1
        return {"author": max(sorted(counts), key=counts.get)}
    return {}


LIBRARY = sorted(library())


def test_the_library_ships_inside_the_package(tmp_path):
    """A non-editable install (`pip install kg`) must find the queries: build the wheel and look inside."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "kg", source / "kg", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "wheel", source],
                   check=True, capture_output=True)
    names = set(zipfile.ZipFile(next((tmp_path / "wheel").glob("kg-*.whl"))).namelist())
    assert {f"kg/queries/{name}.rq" for name in LIBRARY} <= names
    assert "kg/shapes/kg-shapes.ttl" in names


def test_the_library_has_at_least_twelve_documented_queries():
    assert len(LIBRARY) >= 12
    for entry in library().values():
        assert entry.title and entry.answers and entry.semopenalex.split(" ")[0] in ("yes", "no"), entry.name


@pytest.mark.parametrize("name", LIBRARY)
def test_library_query_gives_the_expected_rows(name, demo):
    out, facts = demo
    params = parameters_for(name, facts)
    got = rows(Embedded(data=out).run(bind(find_query(name), params)))
    assert got and unordered_lists(got) == expected_rows(name, facts, params)


@pytest.mark.parametrize("name", LIBRARY)
def test_endpoint_gives_the_same_rows_as_the_embedded_engine(name, demo, published):
    out, facts = demo
    text = bind(find_query(name), parameters_for(name, facts))
    remote, embedded = Endpoint(published).run(text), Embedded(data=out).run(text)
    assert remote.variables == embedded.variables
    assert unordered_lists(rows(remote)) == unordered_lists(rows(embedded))


@pytest.mark.parametrize("text", ['a" } ; DROP ALL ; SELECT * { "', "x'} UNION { ?work ?p ?o", "<b>lme4</b>",
                                  "{{ \\ }} \n #"])
def test_a_parameter_can_never_change_the_query(text, demo):
    out, facts = demo
    got = rows(Embedded(data=out).run(bind(find_query("find-papers"), {"text": text})))
    assert got == expected_rows("find-papers", facts, {"text": text})


def test_persistent_database_answers_like_the_export(demo, tmp_path):
    out, _ = demo
    result = kg("load", "--db", tmp_path / "db", "--data", out)
    assert result.returncode == 0, result.stderr
    for form in ("csv", "tsv", "json"):
        from_db = kg("query", "feed-venues", "--db", tmp_path / "db", "--format", form)
        from_export = kg("query", "feed-venues", "--data", out, "--format", form)
        assert from_db.returncode == 0 and from_db.stdout == from_export.stdout
    parsed = json.loads(from_db.stdout)
    assert parsed["head"]["vars"] == ["source", "name", "feedPapers"] and parsed["results"]["bindings"]


def test_cli_formats_and_limit(demo):
    out, facts = demo
    csv_out = kg("query", "feed-papers-by-citations", "--data", out, "--format", "csv", "--limit", "3")
    lines = csv_out.stdout.splitlines()
    assert lines[0] == "work,title,year,citedBy,upvotes" and len(lines) == 4
    top_work = expected_rows("feed-papers-by-citations", facts, {})[0][0]
    assert lines[1].startswith(f"https://semopenalex.org/work/{top_work},")
    tsv = kg("query", "feed-papers-by-citations", "--data", out, "--format", "tsv", "--limit", "1").stdout.splitlines()
    assert tsv[0] == "?work\t?title\t?year\t?citedBy\t?upvotes" and tsv[1].startswith(f"<https://semopenalex.org/work/{top_work}>")
    table = kg("query", "feed-papers-by-citations", "--data", out, "--limit", "2")
    assert top_work in table.stdout and "2 of 53 rows" in table.stderr


def test_cli_query_over_endpoint(demo, published):
    out, _ = demo
    remote = kg("query", "feed-topics", "--endpoint", published, "--format", "json")
    local = kg("query", "feed-topics", "--data", out, "--format", "json")
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)


def test_publish_into_a_named_graph(demo, oxigraph_server):
    out, _ = demo
    graph = "https://example.org/graphs/demo"
    result = kg("publish", "--endpoint", oxigraph_server + "/store", "--graph", graph, "--data", out)
    assert result.returncode == 0, result.stderr
    answer = requests.get(oxigraph_server + "/query", headers={"Accept": "application/sparql-results+json"},
                          params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    triples = sum(1 for _ in open(out / "kg.nt"))
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == triples


def test_user_errors_are_one_line_with_exit_2(demo, tmp_path):
    out, _ = demo
    broken = tmp_path / "broken.rq"
    broken.write_text("SELECT ?x WHERE {\n  ?x ?y \n}\n")
    cases = {
        ("query", broken, "--data", out): "line 3, column",
        ("query", "no-such-query", "--data", out): "available: author-works",
        ("query", "shared-references", "--data", out): "needs --param work1",
        ("query", "shared-references", "--data", out, "--param", "work1=A12", "--param", "work2=W1"): "work1=A12",
        ("query", "feed-topics", "--data", tmp_path / "empty"): "run `kg build",
        ("query", "feed-topics", "--endpoint", f"http://127.0.0.1:{free_port()}/query"): "cannot reach",
        ("publish", "--endpoint", f"http://127.0.0.1:{free_port()}/store", "--data", out): "cannot reach",
    }
    for args, message in cases.items():
        result = kg(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_endpoint_timeout_is_reported(demo):
    import http.server
    import threading

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            time.sleep(3)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(QueryError, match="did not answer within 0.5 s"):
            Endpoint(f"http://127.0.0.1:{server.server_port}/sparql", timeout=0.5).run("ASK {}")
    finally:
        server.shutdown()


def test_an_endpoint_that_drips_bytes_is_cut_at_the_total_timeout(demo):
    """Each byte arrives well within the read timeout, but the whole answer would take 20 s."""
    import http.server
    import threading

    class Drip(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(QueryError, match="did not answer within 1 s"):
            Endpoint(f"http://127.0.0.1:{server.server_port}/sparql", timeout=1).run("ASK {}")
        assert time.monotonic() - started < 5
    finally:
        server.shutdown()


def test_embedded_queries_are_refused_federation_and_odd_encodings(demo, tmp_path):
    out, _ = demo
    service = tmp_path / "service.rq"
    service.write_text("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }\n")
    latin = tmp_path / "latin.rq"
    latin.write_bytes('SELECT * WHERE { ?s ?p "caf\xe9" }\n'.encode("latin-1"))
    for args, message in (((service,), "SERVICE"), ((latin,), "not UTF-8 text"),
                          (("find-papers", "--param", b"text=\xff".decode("utf-8", "surrogateescape")), "not UTF-8")):
        result = kg("query", *args, "--data", out)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_load_into_a_path_that_is_a_file_is_a_one_line_error(demo, tmp_path):
    out, _ = demo
    (tmp_path / "afile").write_text("")
    result = kg("load", "--db", tmp_path / "afile", "--data", out)
    assert result.returncode == 2 and "cannot open a database" in result.stderr and "Traceback" not in result.stderr
