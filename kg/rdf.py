"""Works as RDF, in the SemOpenAlex vocabulary.

Using SemOpenAlex's IRIs and terms means a query written against kg's export
also runs on https://semopenalex.org/sparql. Facts only kg knows (which feed a
work came from, upvotes, how it was matched) live in kg's own namespace.
The works' triples are made by `kg.transform` (SQL, in DuckDB or Spark) with the
terms and escaping defined here; the threads' triples by `thread_lines`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import RDF, XSD, Graph, Namespace
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, SKOS

from kg.ids import last_segment as short
from kg.threads import Threads

SOA = Namespace("https://semopenalex.org/ontology/")
CITO = Namespace("http://purl.org/spar/cito/")
FABIO = Namespace("http://purl.org/spar/fabio/")
PRISM = Namespace("http://prismstandard.org/namespaces/basic/2.0/")
DATACITE = Namespace("http://purl.org/spar/datacite/")
DBO = Namespace("https://dbpedia.org/ontology/")
DBP = Namespace("https://dbpedia.org/property/")
KG = Namespace("https://w3id.org/kg-feeds/ns#")
SEMOPENALEX = "https://semopenalex.org/"

PREFIXES = {"soa": SOA, "cito": CITO, "fabio": FABIO, "prism": PRISM, "datacite": DATACITE, "dbo": DBO,
            "dbp": DBP, "kg": KG, "dcterms": DCTERMS, "foaf": FOAF, "owl": OWL, "org": ORG, "skos": SKOS,
            "xsd": XSD}

Line = str


# Canonical N-Triples escaping (https://www.w3.org/TR/n-triples/#canonical-ntriples):
# ECHAR for the seven characters that have one, UCHAR for every other control
# character, so that no literal ever breaks a line.
_ECHARS = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_ESCAPES = str.maketrans({**{chr(c): f"\\u{c:04X}" for c in [*range(0x20), 0x7F]}, **_ECHARS})


def literal_term(value: str) -> str:
    """A string literal in N-Triples (and SPARQL) syntax."""
    return f'"{value.translate(_ESCAPES)}"'


def entity(kind: str, openalex_id: str) -> str:
    """The SemOpenAlex IRI of an OpenAlex entity."""
    return f"{SEMOPENALEX}{kind}/{short(openalex_id)}"


def _terms(*curies: str) -> dict[str, str]:
    """N-Triples forms of the terms the works' triples use (`kg.transform`)."""
    namespaces = {**PREFIXES, "rdf": RDF}
    return {c: f"<{namespaces[c.split(':')[0]]}{c.split(':')[1]}>" for c in curies}


T = _terms(
    "cito:cites", "datacite:doi", "dbo:orcidId", "dbp:countryCode", "dcterms:abstract", "dcterms:creator",
    "dcterms:title", "fabio:hasPublicationYear", "foaf:name", "kg:FeedWork", "kg:arxivId", "kg:feed",
    "kg:feedDate", "kg:matchScore", "kg:matchedBy", "kg:organization", "kg:upvotes", "org:memberOf",
    "owl:sameAs", "prism:publicationDate", "rdf:type", "skos:prefLabel", "soa:Author", "soa:Authorship",
    "soa:Institution", "soa:Location", "soa:Source", "soa:Topic", "soa:Work", "soa:citedByCount",
    "soa:hasAuthor", "soa:hasAuthorship", "soa:hasLocation", "soa:hasOrganization",
    "soa:hasPrimaryLocation", "soa:hasPrimaryTopic", "soa:hasSource", "soa:hasTopic", "soa:isCorresponding",
    "soa:position", "soa:rawAffiliation", "soa:ror")


def rdflib_graph(lines: Iterable[Line]) -> Graph:
    """An rdflib graph of the lines, kept in Oxigraph (via oxrdflib) so SPARQL over it is fast."""
    graph = Graph(store="Oxigraph")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph.parse(data="".join(lines), format="nt")
    return graph


THREAD_BASE = "https://w3id.org/kg-feeds/thread/"


def thread_lines(threads: Threads) -> list[str]:
    """The threads as N-Triples in kg's namespace; backbone steps are numbered resources (no blank nodes)."""
    lines = []
    for rank, thread in enumerate(threads.threads, start=1):
        t = f"<{THREAD_BASE}{thread.id}>"
        lines += [f"{t} <{RDF.type}> <{KG.Thread}> .\n",
                  f"{t} <{KG.name}> {literal_term(thread.name)} .\n",
                  f'{t} <{KG.rank}> "{rank}"^^<{XSD.integer}> .\n',
                  f'{t} <{KG.strength}> "{thread.strength}"^^<{XSD.decimal}> .\n']
        lines += [f"{t} <{KG.hasPaper}> <{entity('work', p)}> .\n" for p in thread.papers]
        lines += [f"{t} <{KG.foundation}> <{entity('work', r)}> .\n" for r, _ in thread.foundations]
        lines += [f"{t} <{KG.dominantTopic}> <{entity('topic', topic)}> .\n" for topic, _ in thread.topics[:3]]
        for position, work in enumerate(thread.backbone, start=1):
            step = f"<{THREAD_BASE}{thread.id}/backbone/{position}>"
            lines += [f"{t} <{KG.backboneStep}> {step} .\n", f"{step} <{RDF.type}> <{KG.BackboneStep}> .\n",
                      f'{step} <{KG.position}> "{position}"^^<{XSD.integer}> .\n',
                      f"{step} <{KG.work}> <{entity('work', work)}> .\n"]
    return lines
