"""Following the literature: what `kg follow` parses, the questions it asks, and two days against the test
server where day 2 brings new works citing a followed paper, by a followed author, in a followed topic and
matching a saved query."""

import copy
import datetime as dt
import json
import re
import sqlite3
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import PAGES, browser, kg
from kg.errors import KgError
from kg.follow import Followed, brought_by, parse_followed, provenance_source, queries
from oaserver import Plan

ORCID = "0000-0002-1825-0097"
FOLLOWED = "https://openalex.org/W6301767674"  # page 1's second paper (the synthetic world's truth.jsonl)


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("2401.12345v2", None, ("paper", "arxiv:2401.12345")),
    ("https://doi.org/10.1145/ABC.1", None, ("paper", "doi:10.1145/abc.1")),
    ("https://openalex.org/W123", None, ("paper", "openalex:W123")),
    ("https://openalex.org/authors/a42", None, ("author", "A42")),
    (f"https://orcid.org/{ORCID}", None, ("author", ORCID)),
    ("T10028", None, ("topic", "T10028")),
    ("  Diffusion, models: for TEXT!  ", "query", ("query", "diffusion models for text")),
])
def test_what_can_be_followed(text, kind, expected):
    assert parse_followed(text, kind) == expected


@pytest.mark.parametrize(("text", "kind", "named"), [
    ("not an id", None, "cannot follow 'not an id'"), ("W123", "author", "an OpenAlex A id or an ORCID"),
    ("?!", "query", "no words"),
])
def test_what_cannot_be_followed_is_named(text, kind, named):
    with pytest.raises(KgError, match=re.escape(named)):
        parse_followed(text, kind)


def test_items_of_a_kind_go_together_and_a_query_alone():
    since = "2026-11-01"
    items = [Followed("paper", "arxiv:2401.00001", since), Followed("paper", "doi:10.1/x", since),
             Followed("paper", "arxiv:2401.00002", since), Followed("author", "A1", since),
             Followed("author", ORCID, since), Followed("author", "A2", since, checked="2026-12-10"),
             Followed("topic", "T5", since), Followed("query", "llm agents", since),
             Followed("query", "protein folding", since)]
    work_of = {"arxiv:2401.00001": "https://openalex.org/W1", "doi:10.1/x": "https://openalex.org/W2"}
    asked, waiting = queries(items, work_of)
    assert [(q.filter, q.values, q.since) for q in asked] == [
        ("authorships.author.id", ["A1"], since), ("authorships.author.id", ["A2"], "2026-11-10"),
        ("authorships.author.orcid", [ORCID], since), ("cites", ["W1", "W2"], since),
        ("title_and_abstract.search", ["llm agents"], since), ("title_and_abstract.search", ["protein folding"], since),
        ("topics.id", ["T5"], since)]
    assert [i.value for i in waiting] == ["arxiv:2401.00002"]
    record = {"referenced_works": ["https://openalex.org/W2"],
              "authorships": [{"author": {"id": "https://openalex.org/A1", "orcid": f"https://orcid.org/{ORCID}"}}]}
    assert brought_by(record, asked[3]) == ["W2"] and brought_by(record, asked[2]) == [ORCID]
    assert provenance_source("authorships.author.orcid", ORCID) == f"follow:author:{ORCID}"


# -- two days over HTTP ------------------------------------------------------------------

DAYS = [dt.date.today() - dt.timedelta(days=n) for n in (2, 1, 0)]
"""The three days of the test, the last one today (each run pins its day with SOURCE_DATE_EPOCH)."""


def on(day: dt.date) -> dict[str, str]:
    return {"SOURCE_DATE_EPOCH": str(int(dt.datetime(day.year, day.month, day.day, 18, tzinfo=dt.UTC).timestamp()))}


def new_work(template: dict, number: int, title: str, references: list[str], authorships: list[dict],
             topic: dict) -> dict:
    """A work OpenAlex indexes overnight, published on day 2: a copy of `template` with these parts."""
    record = copy.deepcopy(template)
    work_id = f"https://openalex.org/W99000000{number:02d}"
    published = DAYS[1].isoformat()
    record.update(id=work_id, doi=None, ids={"openalex": work_id}, title=title, display_name=title,
                  publication_date=published, publication_year=DAYS[1].year, created_date=published,
                  referenced_works=references, referenced_works_count=len(references), authorships=authorships,
                  topics=[topic], primary_topic=topic, cited_by_count=0, counts_by_year=[], locations=[],
                  primary_location=None, best_oa_location=None, abstract_inverted_index=None)
    return record


def store_rows(out, query: str) -> list[tuple]:
    with sqlite3.connect(out / "kg-store.sqlite") as db:
        return db.execute(query).fetchall()


def test_two_days_of_following(server, tmp_path):
    out = tmp_path / "project"

    def run(day, *args):
        result = kg("run", *args, "--year", "2024", "--out", out, "--openalex-url", server.url, "--no-hf",
                    "--rate", "1000", "--citing", "5", env=on(day))
        assert result.returncode == 0, result.stderr
        return result

    world = server.world
    followed = world.works[FOLLOWED.rsplit("/", 1)[-1]]
    author = followed["authorships"][0]
    topic = followed["primary_topic"]
    other_topic = next(t for r in world.works.values() for t in r.get("topics") or [] if t["id"] != topic["id"])
    stranger = next(a for r in world.works.values() for a in r.get("authorships") or []
                    if a["author"]["id"] not in {x["author"]["id"] for x in followed["authorships"]})
    refs = followed["referenced_works"]

    added = kg("follow", "add", FOLLOWED, author["author"]["id"], topic["id"], "--query", "zyxel quorum",
               "--out", out, env=on(DAYS[0]))
    assert added.returncode == 0, added.stderr
    assert added.stderr.count("following ") == 4
    server.reset(plan=Plan(throttle=False))
    day1 = run(DAYS[0], PAGES[0])
    assert "following 4 items: 4 checked in 4 questions" in day1.stderr
    day1_full = {w for (w,) in store_rows(out, "SELECT id FROM works WHERE complete >= 1")}

    day1_feed = {w for (w,) in store_rows(out, "SELECT work_id FROM resolutions WHERE work_id IS NOT NULL")}

    server.reset(plan=Plan(throttle=False))  # overnight OpenAlex indexed four new works, and a fifth one
    news = {
        "cites": new_work(followed, 1, "Citing the followed paper", [followed["id"], *refs[:3]], [stranger],
                          other_topic),
        "author": new_work(followed, 2, "The followed author again", refs, [author], other_topic),
        "topic": new_work(followed, 3, "Zyxel quorum lattices", refs[:5], [stranger], topic),
        "both": new_work(followed, 4, "Citing it, by its author", [followed["id"]], [author], other_topic),
    }
    unfollowed = sorted(day1_feed - {followed["id"]})[0]
    citing = new_work(followed, 5, "Citing a feed paper nobody follows", [unfollowed], [stranger], other_topic)
    for record in [*news.values(), citing]:
        world.add(record)
    day2 = run(DAYS[1], PAGES[1])
    work_of_paper = followed["id"].rsplit("/", 1)[-1]

    # Day 2 asked each kind once, and the day-1 feed works once for their new citing works, for works published
    # since day 1 less the indexing lag; it fetched no full record it had.
    questions = [parse_qs(urlsplit(line).query)["filter"][0] for line in server.log.lines
                 if "from_publication_date:" in line]
    window = (DAYS[0] - dt.timedelta(days=30)).isoformat()
    assert sorted(q.split(":")[0] for q in questions) == ["authorships.author.id", "cites", "cites",
                                                          "title_and_abstract.search", "topics.id"]
    assert all(q.endswith(f",from_publication_date:{window}") for q in questions)
    assert {w for q in questions if q.startswith("cites:") for w in q.split(",")[0][6:].split("|")} == \
        {w.rsplit("/", 1)[-1] for w in day1_feed}
    for line in server.log.lines:
        filters = parse_qs(urlsplit(line).query).get("filter", [""])[0]
        outside_cites = re.sub(r"cites:[^,]*", "", filters) + urlsplit(line).path
        assert not {f"https://openalex.org/{w}" for w in re.findall(r"\bW\d+\b", outside_cites)} & day1_full, line
    assert re.search(r"following 4 items: 4 checked in 4 questions to OpenAlex \(\d+ credits, [\d.]+ per item\), "
                     r"4 new works brought", day2.stderr), day2.stderr

    # Each new work is in the store once, as a feed paper with its provenance; the one found both ways has both.
    keys = {name: f"openalex:{r['id'].rsplit('/', 1)[-1]}" for name, r in news.items()}
    entries = store_rows(out, "SELECT key, source FROM feed_entries WHERE source LIKE 'follow:%' ORDER BY key, source")
    assert entries == sorted([
        (keys["cites"], f"follow:cites:{work_of_paper}"), (keys["author"], f"follow:author:{author['author']['id'][21:]}"),
        (keys["topic"], "follow:query:zyxel quorum"), (keys["topic"], f"follow:topic:{topic['id'][21:]}"),
        (keys["both"], f"follow:author:{author['author']['id'][21:]}"), (keys["both"], f"follow:cites:{work_of_paper}")])
    assert {w for (w,) in store_rows(out, "SELECT work_id FROM resolutions WHERE method='followed'")} == \
        {r["id"] for r in news.values()}

    # `kg diff`, the report and the digest show each with why it came and the thread it joined.
    diff = json.loads(kg("diff", "--out", out, "--json").stdout)
    found = {p["key"]: p for p in diff["new_papers"] if p["found_by"]}
    assert set(found) == set(keys.values())
    assert found[keys["both"]]["found_by"] == [f"by {author['author']['id'][21:]} (“{author['author']['display_name']}”)",
                                               f"cites {work_of_paper} (“{followed['display_name']}”)"]
    assert found[keys["topic"]]["found_by"] == ["matches the query “zyxel quorum”",
                                                f"in topic {topic['id'][21:]} (“{topic['display_name']}”)"]
    threads = json.loads((out / "threads.json").read_text())["threads"]
    home = next(t["id"] for t in threads if followed["id"] in t["papers"])
    for name in news:  # each cites, shares references or authors with the followed paper: it joins that thread
        assert found[keys[name]]["thread"] == home and found[keys[name]]["evidence"], name
    report = (out / "report.html").read_text()
    followed_section = report[report.index('id="followed"'):]
    for record in news.values():
        assert record["display_name"] in followed_section
    assert followed_section.count('<tr data-kind=') == 4
    driver = browser(tmp_path)
    try:  # the Followed section's filters, in the page as a reader uses it
        driver.get((out / "report.html").as_uri())
        visible = lambda: sorted(r.get_attribute("data-kind") for r in driver.find_elements(
            By.CSS_SELECTOR, "#kg-follows tr[data-kind]") if r.is_displayed())
        assert visible() == ["author", "paper", "query", "topic"]
        Select(driver.find_element(By.ID, "kg-follow-kind")).select_by_value("author")
        assert visible() == ["author"]
        Select(driver.find_element(By.ID, "kg-follow-kind")).select_by_value("")
        driver.find_element(By.ID, "kg-follow-find").send_keys("zyxel")
        assert visible() == ["query", "topic"]  # the query, and the topic that brought the Zyxel work
    finally:
        driver.quit()
    digest = feedparser.parse(str(out / "digest.atom"))
    latest = next(e for e in digest.entries if "run 2 " in e.title)
    assert "found by following: cites" in latest.content[0].value

    listing = [json.loads(line) for line in kg("follow", "list", "--out", out, "--json").stdout.splitlines()]
    assert {row["kind"]: row["brought"] for row in listing if row["kind"] != "query"} == \
        {"paper": 2, "author": 2, "topic": 1}
    assert all(row["checked"] == DAYS[1].isoformat() for row in listing)
    # The fifth work joined as a citing work of the feed paper it cites, not as a feed paper.
    assert store_rows(out, f"SELECT role FROM roles WHERE work_id='{citing['id']}'") == [("citing",)]
    assert store_rows(out, f"SELECT found FROM citing_done WHERE work_id='{unfollowed}'")[0][0] >= 1

    # A rerun on day 2 asks nothing more; day 3 asks again, finds nothing new, stores nothing twice.
    server.reset(plan=Plan(throttle=False))
    for record in [*news.values(), citing]:
        world.add(record)
    run(DAYS[1], PAGES[1])
    assert not [line for line in server.log.lines if "from_publication_date:" in line]
    before = store_rows(out, "SELECT key FROM feed_papers ORDER BY key")
    day3 = run(DAYS[2], PAGES[1])
    assert "4 checked in 4 questions" in day3.stderr and "0 new works brought" in day3.stderr
    assert store_rows(out, "SELECT key FROM feed_papers ORDER BY key") == before


def test_follow_commands_name_what_is_wrong(tmp_path):
    out = tmp_path / "p"
    bad = kg("follow", "add", "not-an-id", "--out", out)
    assert bad.returncode == 2 and "cannot follow 'not-an-id'" in bad.stderr and "Traceback" not in bad.stderr
    assert kg("follow", "add", "T1", "--since", "yesterday", "--out", out).returncode == 2
    assert kg("follow", "add", "T1", "--out", out).returncode == 0
    again = kg("follow", "add", "T1", "--out", out)
    assert "1 already followed" in again.stderr
    gone = kg("follow", "remove", "T2", "--out", out)
    assert gone.returncode == 2 and "'T2' is not followed" in gone.stderr
    assert kg("follow", "remove", "T1", "--out", out).returncode == 0
    assert kg("follow", "list", "--out", out, "--json").stdout == ""


def follow_project(server, path, credits: int | None = None) -> dict[str, list]:
    """A project following three topics and two authors from 2026-06-01 (many works), run to the end; with
    `credits`, the first day's budget is that small: the run stops while following and is resumed the next day."""
    from kg.enrich import Enricher, EnrichOptions, start_following
    from kg.errors import BudgetExhausted
    from kg.sources.openalex import OpenAlexAPI
    from kg.store import Store

    options = EnrichOptions(run_at=f"{DAYS[2]}T18:00:00+00:00")
    server.reset(plan=Plan(throttle=False, keyless_credits=credits or 1000))
    stops = 0
    with Store(path) as store:
        start_following(store, ["T29187", "T27090", "T10028", "A6801265385", "A6389224675"], None, "2026-06-01")
        while stops < 2:
            source = OpenAlexAPI(server.url)
            try:
                Enricher(source, store, options).run([])
                break
            except BudgetExhausted:
                stops += 1
                server.reset(plan=Plan(throttle=False))  # the next day, with the usual keyless budget
            finally:
                source.close()
        tables = {"entries": store.db.execute("SELECT source, idx, key FROM feed_entries ORDER BY 1, 2").fetchall(),
                  "resolutions": store.db.execute("SELECT key, work_id, method, evidence FROM resolutions "
                                                  "ORDER BY key").fetchall(),
                  "works": store.db.execute("SELECT id, complete FROM works ORDER BY id").fetchall(),
                  "follows": store.db.execute("SELECT * FROM follows ORDER BY 1, 2").fetchall()}
    return {**tables, "stops": [stops]}


def test_a_budget_stop_while_following_resumes_to_the_same_project(server, tmp_path):
    undisturbed = follow_project(server, tmp_path / "a.sqlite")
    assert undisturbed["stops"] == [0] and len(undisturbed["entries"]) > 20
    for credits in (1, 2):  # spent after the first question, and after the second
        resumed = follow_project(server, tmp_path / f"b{credits}.sqlite", credits)
        assert resumed["stops"] == [1]
        assert {k: v for k, v in resumed.items() if k != "stops"} == \
            {k: v for k, v in undisturbed.items() if k != "stops"}
