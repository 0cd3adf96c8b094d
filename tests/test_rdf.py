"""RDF: every literal escaped one way, threads in kg's namespace (the works' triples: tests/test_transform.py)."""

from rdflib import Graph, Literal, URIRef

from kg.rdf import THREAD_BASE, literal_term, thread_lines
from kg.threads import Thread, Threads

HOSTILE = 'a "quoted"\n\\ title\twith\r<tags> & 💡 \x01'


def test_literals_survive_any_text():
    graph = Graph().parse(data=f"<urn:s> <urn:p> {literal_term(HOSTILE)} .\n", format="nt")
    assert list(graph.objects()) == [Literal(HOSTILE)]


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
