"""RDF: every literal escaped one way, per-work lines that parse as N-Triples, threads in kg's namespace."""

from rdflib import Graph, Literal, URIRef

from kg.model import FeedFacts, from_record
from kg.rdf import CITO, SOA, THREAD_BASE, literal_term, thread_lines, work_lines
from kg.threads import Thread, Threads

HOSTILE = 'a "quoted"\n\\ title\twith\r<tags> & 💡 \x01'


def test_literals_survive_any_text():
    graph = Graph().parse(data=f"<urn:s> <urn:p> {literal_term(HOSTILE)} .\n", format="nt")
    assert list(graph.objects()) == [Literal(HOSTILE)]


def test_work_lines_parse_and_use_semopenalex_terms():
    record = {"id": "https://openalex.org/W1", "title": HOSTILE, "publication_year": 2024,
              "doi": "https://doi.org/10.1/X", "referenced_works": ["https://openalex.org/W2"],
              "authorships": [{"author": {"id": "https://openalex.org/A1", "display_name": "Ada"}, "institutions": []}]}
    work = from_record(record, feed=FeedFacts(feeds=("page.txt",), feed_date="2024-06-01", upvotes=3))
    graph = Graph().parse(data="".join(work_lines(work)), format="nt")
    w = URIRef("https://semopenalex.org/work/W1")
    assert (w, CITO.cites, URIRef("https://semopenalex.org/work/W2")) in graph
    assert (w, URIRef("http://purl.org/dc/terms/title"), Literal(HOSTILE)) in graph
    assert len(list(graph.objects(w, SOA.hasAuthorship))) == 1


def test_thread_lines_name_every_thread_and_its_backbone_in_order():
    thread = Thread("T1", 'Graphs & "things"', 1.5, ["https://openalex.org/W1", "https://openalex.org/W2"],
                    [("https://openalex.org/W9", 2)], ["https://openalex.org/W9", "https://openalex.org/W1"],
                    [("https://openalex.org/T1", 2)], [], [])
    graph = Graph().parse(data="".join(thread_lines(Threads([thread], [], []))), format="nt")
    t = URIRef(f"{THREAD_BASE}T1")
    assert graph.value(t, URIRef("https://w3id.org/kg-feeds/ns#name")) == Literal('Graphs & "things"')
    steps = sorted((int(graph.value(s, URIRef("https://w3id.org/kg-feeds/ns#position"))),
                    str(graph.value(s, URIRef("https://w3id.org/kg-feeds/ns#work"))))
                   for s in graph.objects(t, URIRef("https://w3id.org/kg-feeds/ns#backboneStep")))
    assert steps == [(1, "https://semopenalex.org/work/W9"), (2, "https://semopenalex.org/work/W1")]


def test_typed_literals_are_escaped_like_plain_ones():
    record = {"id": "https://openalex.org/W1", "publication_date": '2024-01-01" . <urn:x> <urn:y> "z'}
    graph = Graph().parse(data="".join(work_lines(from_record(record))), format="nt")
    assert len(list(graph.subjects(URIRef("urn:x")))) == 0 and len(graph) >= 2
