"""A seeded, OpenAlex-format corpus of any size, written straight into a kg store.

Shaped like the real thing where it matters for the build: references follow
preferential attachment to older works (a fifth point outside the corpus, as
unhydrated references do), author counts are skewed (1 to 40, mean about 6)
with authors drawn from a Zipf-like pool, most authors have an institution and
half an ORCID, half the works carry an abstract. It is synthetic data, for
measuring speed and memory only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from kg.feeds import FeedPaper, Provenance
from kg.resolve import Resolution
from kg.store import Store

WORDS = ("graph neural network learning model data language vision protein quantum citation retrieval "
         "transformer diffusion reinforcement causal sparse robust efficient scalable multimodal agent "
         "benchmark theory optimisation inference embedding attention memory reasoning physics").split()
BASE = 4_000_000_000


def _zipf(rng: random.Random, n: int) -> int:
    return min(int(rng.paretovariate(1.1)) - 1, n - 1)


def records(works: int, references_per_work: int, seed: int) -> Iterator[dict]:
    rng = random.Random(seed)
    authors, institutions, sources, topics = max(works * 3 // 2, 10), max(works // 20, 5), max(works // 40, 3), 1000
    for index in range(works):
        year = 1990 + index * 36 // works
        cited = set()
        while len(cited) < references_per_work:
            if rng.random() < 0.2:
                cited.add(f"https://openalex.org/W{BASE + works + rng.randrange(works * 4)}")
            elif index:
                cited.add(f"https://openalex.org/W{BASE + index - 1 - _zipf(rng, index)}")
            else:
                cited.add(f"https://openalex.org/W{BASE + works + len(cited)}")
        authorships = []
        for position in range(min(1 + int(rng.expovariate(1 / 5)), 40)):
            author = _zipf(rng, authors) if rng.random() < 0.5 else rng.randrange(authors)
            institution = rng.randrange(institutions)
            authorships.append({
                "author_position": "first" if position == 0 else "middle",
                "author": {"id": f"https://openalex.org/A{BASE + author}", "display_name": f"Author {author}",
                           "orcid": f"https://orcid.org/0000-0002-{author % 10000:04d}-{author // 10000 % 10000:04d}"
                           if author % 2 else None},
                "institutions": [] if rng.random() < 0.15 else [{
                    "id": f"https://openalex.org/I{BASE + institution}", "display_name": f"Institute {institution}",
                    "ror": f"https://ror.org/0{institution:08d}", "country_code": ["US", "CN", "DE", "GB", "FR",
                                                                                   "JP", "IN", "BR"][institution % 8]}],
                "is_corresponding": position == 0,
                "raw_affiliation_strings": [f"Dept. {position}, Institute {institution}"]})
        topic = rng.randrange(topics)
        words = [rng.choice(WORDS) for _ in range(rng.randint(5, 12))]
        yield {
            "id": f"https://openalex.org/W{BASE + index}", "title": " ".join(words).capitalize(),
            "publication_year": year, "publication_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "doi": f"https://doi.org/10.5555/bench.{index}", "type": "article", "cited_by_count": rng.randrange(500),
            "primary_location": {"source": {"id": f"https://openalex.org/S{BASE + _zipf(rng, sources)}",
                                            "display_name": "Journal", "type": "journal"}},
            "authorships": authorships,
            "primary_topic": {"id": f"https://openalex.org/T{10000 + topic}", "display_name": f"Topic {topic}"},
            "topics": [{"id": f"https://openalex.org/T{10000 + topic}", "display_name": f"Topic {topic}"}],
            "abstract_inverted_index": {w: [i] for i, w in enumerate(rng.choice(WORDS) + str(i) for i in range(80))}
            if rng.random() < 0.5 else None,
            "referenced_works": sorted(cited),
        }


def make_store(path: Path, works: int, references_per_work: int = 25, feed: int = 200, seed: int = 7) -> Path:
    """A store holding the corpus, its last `feed` works marked as matched feed papers."""
    if path.exists():
        return path
    with Store(path) as store:
        batch = []
        for record in records(works, references_per_work, seed):
            batch.append(record)
            if len(batch) == 5000:
                store.save_works(batch, "reference", complete=True)
                batch = []
        store.save_works(batch, "reference", complete=True)
        papers, resolutions = [], []
        for index in range(works - feed, works):
            paper = FeedPaper(title=f"paper {index}", arxiv_id=f"2601.{index:05d}",
                              provenance=(Provenance("bench-feed.txt", index, None),))
            papers.append(paper)
            resolutions.append(Resolution(paper.key, f"https://openalex.org/W{BASE + index}", "arxiv_doi", 1.0,
                                          "matched"))
        store.add_feed(papers)
        store.save_resolutions(resolutions)
    return path
