"""What following the literature costs a day: 100 papers, 20 authors and 5 topics followed (issue #28).

Over real HTTP against the local OpenAlex imitation (tests/oaserver.py) serving the synthetic world, keyless,
with its throttling. Day 1 follows the items and runs (resolving the followed papers costs once); overnight
the world gains works citing followed papers, by followed authors and in followed topics; day 2 runs again.
Credits are the server's own accounting of the follow questions (the other requests of a run, such as the
references of the works brought, are counted apart).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.common import ROOT, machine, table

sys.path.insert(0, str(ROOT / "tests"))

from oaserver import OpenAlexServer  # noqa: E402

WORLD = ROOT / "tests" / "fixtures" / "openalex" / "world-synthetic"
PAPERS, AUTHORS, TOPICS = 100, 20, 5
NEW_WORKS = 30


def _follow_list(works: dict[str, dict]) -> tuple[list[str], list[str], list[str]]:
    """The most cited works, the most prolific authors and the commonest topics of the world."""
    cited, authors, topics = Counter(), Counter(), Counter()
    for record in works.values():
        cited.update(record.get("referenced_works") or [])
        authors.update(a["author"]["id"] for a in record.get("authorships") or [])
        topics.update(t["id"] for t in record.get("topics") or [])
    pick = lambda counter, n: sorted(i for i, _ in counter.most_common(n))
    return pick(cited, PAPERS), pick(authors, AUTHORS), pick(topics, TOPICS)


def _new_works(works: dict[str, dict], papers: list[str], authors: list[str], topics: list[str],
               day: dt.date) -> list[dict]:
    """Works published on `day`: a third citing a followed paper, a third by a followed author, a third in a
    followed topic."""
    template = works[sorted(works)[0]]
    made = []
    for n in range(NEW_WORKS):
        work_id = f"https://openalex.org/W98{n:08d}"
        author = {**template["authorships"][0], "author": {"id": authors[n % len(authors)] if n % 3 == 1
                                                           else "https://openalex.org/A9", "display_name": "X"}}
        topic = {**template["primary_topic"], "id": topics[n % len(topics)] if n % 3 == 2 else "https://openalex.org/T9"}
        made.append({**template, "id": work_id, "doi": None, "ids": {"openalex": work_id},
                     "title": f"New work {n}", "display_name": f"New work {n}", "publication_date": day.isoformat(),
                     "publication_year": day.year, "referenced_works": [papers[n % len(papers)]] if n % 3 == 0 else [],
                     "authorships": [author], "topics": [topic], "primary_topic": topic, "cited_by_count": 0})
    return made


def bench_follow() -> None:
    from kg.enrich import Enricher, EnrichOptions, start_following
    from kg.sources.openalex import OpenAlexAPI
    from kg.store import Store

    days = [dt.date.today() - dt.timedelta(days=1), dt.date.today()]
    rows = []
    with OpenAlexServer([WORLD]) as server, tempfile.TemporaryDirectory() as folder:
        papers, authors, topics = _follow_list(server.world.works)
        with Store(Path(folder) / "kg-store.sqlite") as store:
            start_following(store, papers + authors + topics, None, None, days[0])
            for number, day in enumerate(days, start=1):
                server.reset()
                if number == 2:
                    for record in _new_works(server.world.works, papers, authors, topics, day):
                        server.world.add(record)
                source = OpenAlexAPI(server.url)
                try:
                    summary = Enricher(source, store, EnrichOptions(run_at=f"{day}T18:00:00+00:00")).run([])
                finally:
                    source.close()
                following = summary.following
                assert following is not None
                asked = [line for line in server.log.lines if "from_publication_date:" in line]
                rows.append([f"day {number}", f"{following.items}", f"{following.questions}", f"{len(asked)}",
                             f"{following.credits:.0f}", f"{following.credits / following.items:.3f}",
                             f"{sum(following.brought.values())}", f"{server.log.spent_credits}"])
    print(f"\n### Following {PAPERS} papers, {AUTHORS} authors and {TOPICS} topics, keyless ({machine()})\n")
    print(table(["run", "items", "questions", "list calls (pages)", "follow credits", "credits per item",
                 "new works brought", "credits of the whole run"], rows))
    print(f"\nDay 2 the world holds {NEW_WORKS} new works (a third each: citing a followed paper, by a followed "
          "author, in a followed topic). Day 1's whole-run credits include resolving and hydrating the 100 "
          "followed papers and fetching their references, once; day 2's include the new works' references.")
