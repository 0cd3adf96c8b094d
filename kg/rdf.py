"""Works as RDF, in the SemOpenAlex vocabulary.

Using SemOpenAlex's IRIs and terms means a query written against kg's export
also runs on https://semopenalex.org/sparql. Facts only kg knows (which feed a
work came from, upvotes, how it was matched) live in kg's own namespace.
`work_lines` is a pure per-work function, so it runs unchanged wherever records
are (one process or a distributed job); everything else assembles its output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from rdflib import RDF, XSD, Graph, Namespace
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, SKOS

from kg.ids import last_segment as short
from kg.model import Authorship, FeedFacts, Work
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


def _iri(value: str) -> str:
    return f"<{value}>"


# Canonical N-Triples escaping (https://www.w3.org/TR/n-triples/#canonical-ntriples):
# ECHAR for the seven characters that have one, UCHAR for every other control
# character, so that no literal ever breaks a line.
_ECHARS = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_ESCAPES = str.maketrans({**{chr(c): f"\\u{c:04X}" for c in [*range(0x20), 0x7F]}, **_ECHARS})


def literal_term(value: str) -> str:
    """A string literal in N-Triples (and SPARQL) syntax."""
    return f'"{value.translate(_ESCAPES)}"'


def _typed(value: object, datatype: str) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, float):
        value = format(Decimal(repr(round(value, 4))).normalize(), "f")  # canonical xsd:decimal: 1, 0.95
    return f"{literal_term(str(value))}^^<{datatype}>"  # one escaping path for every literal, typed or not


def entity(kind: str, openalex_id: str) -> str:
    """The SemOpenAlex IRI of an OpenAlex entity."""
    return f"{SEMOPENALEX}{kind}/{short(openalex_id)}"


def _terms(*curies: str) -> dict[str, str]:
    """N-Triples forms of the terms `work_lines` writes, made once (namespace lookups are slow in a hot loop)."""
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
XSD_INTEGER, XSD_DATE, XSD_BOOLEAN, XSD_DECIMAL = (str(XSD[t]) for t in ("integer", "date", "boolean", "decimal"))


def work_lines(work: Work) -> Iterator[Line]:
    """Every N-Triples line one work contributes, with its authors, institutions, venue and topics.

    Lines are formatted directly (no term objects) because this runs once per
    triple of the whole export: it is the build's inner loop. Entities shared
    by several works repeat; the export sorts and deduplicates.
    """
    w = _iri(entity("work", work.id))
    yield f"{w} {T['rdf:type']} {T['soa:Work']} .\n"
    yield f"{w} {T['owl:sameAs']} <{work.id}> .\n"
    if work.title is not None:
        yield f"{w} {T['dcterms:title']} {literal_term(work.title)} .\n"
    if work.abstract:
        yield f"{w} {T['dcterms:abstract']} {literal_term(work.abstract)} .\n"
    if work.year is not None:
        yield f"{w} {T['fabio:hasPublicationYear']} {_typed(work.year, XSD_INTEGER)} .\n"
    if work.date:
        yield f"{w} {T['prism:publicationDate']} {_typed(work.date, XSD_DATE)} .\n"
    if work.doi:
        yield f"{w} {T['datacite:doi']} {literal_term(work.doi)} .\n"
    if work.cited_by_count is not None:
        yield f"{w} {T['soa:citedByCount']} {_typed(work.cited_by_count, XSD_INTEGER)} .\n"
    cites = f"{w} {T['cito:cites']} <{SEMOPENALEX}work/"
    for reference in work.references:
        yield f"{cites}{short(reference)}> .\n"
    if work.source:
        location = f"<{SEMOPENALEX}location/{short(work.id)}-primary>"
        s = _iri(entity("source", work.source.id))
        yield f"{w} {T['soa:hasPrimaryLocation']} {location} .\n"
        yield f"{w} {T['soa:hasLocation']} {location} .\n"
        yield f"{location} {T['rdf:type']} {T['soa:Location']} .\n"
        yield f"{location} {T['soa:hasSource']} {s} .\n"
        yield f"{s} {T['rdf:type']} {T['soa:Source']} .\n"
        if work.source.name:
            yield f"{s} {T['foaf:name']} {literal_term(work.source.name)} .\n"
    for authorship in work.authorships:
        yield from _authorship_lines(w, work, authorship)
    for topic in work.all_topics():
        t = _iri(entity("topic", topic.id))
        yield f"{w} {T['soa:hasTopic']} {t} .\n"
        yield f"{t} {T['rdf:type']} {T['soa:Topic']} .\n"
        if topic.name:
            yield f"{t} {T['skos:prefLabel']} {literal_term(topic.name)} .\n"
    if work.primary_topic:
        yield f"{w} {T['soa:hasPrimaryTopic']} {_iri(entity('topic', work.primary_topic.id))} .\n"
    if work.feed:
        yield from _feed_lines(w, work.feed)


def _authorship_lines(w: str, work: Work, authorship: Authorship) -> Iterator[Line]:
    a = _iri(entity("author", authorship.author.id))
    node = f"<{SEMOPENALEX}authorship/{short(work.id)}{short(authorship.author.id)}>"
    yield f"{w} {T['soa:hasAuthorship']} {node} .\n"
    yield f"{w} {T['dcterms:creator']} {a} .\n"
    yield f"{node} {T['rdf:type']} {T['soa:Authorship']} .\n"
    yield f"{node} {T['soa:hasAuthor']} {a} .\n"
    yield f"{node} {T['soa:position']} {_typed(authorship.position, XSD_INTEGER)} .\n"
    if authorship.is_corresponding is not None:
        yield f"{node} {T['soa:isCorresponding']} {_typed(authorship.is_corresponding, XSD_BOOLEAN)} .\n"
    if authorship.raw_affiliation:
        yield f"{node} {T['soa:rawAffiliation']} {literal_term(authorship.raw_affiliation)} .\n"
    yield f"{a} {T['rdf:type']} {T['soa:Author']} .\n"
    if authorship.author.name:
        yield f"{a} {T['foaf:name']} {literal_term(authorship.author.name)} .\n"
    if authorship.author.orcid:
        yield f"{a} {T['dbo:orcidId']} {literal_term(authorship.author.orcid)} .\n"
    for institution in authorship.institutions:
        i = _iri(entity("institution", institution.id))
        yield f"{node} {T['soa:hasOrganization']} {i} .\n"
        yield f"{a} {T['org:memberOf']} {i} .\n"
        yield f"{i} {T['rdf:type']} {T['soa:Institution']} .\n"
        if institution.name:
            yield f"{i} {T['foaf:name']} {literal_term(institution.name)} .\n"
        if institution.ror:
            yield f"{i} {T['soa:ror']} {literal_term(short(institution.ror))} .\n"
        if institution.country:
            yield f"{i} {T['dbp:countryCode']} {literal_term(institution.country)} .\n"


def _feed_lines(w: str, facts: FeedFacts) -> Iterator[Line]:
    yield f"{w} {T['rdf:type']} {T['kg:FeedWork']} .\n"
    for name in facts.feeds:
        yield f"{w} {T['kg:feed']} {literal_term(name)} .\n"
    if facts.feed_date:
        yield f"{w} {T['kg:feedDate']} {_typed(facts.feed_date, XSD_DATE)} .\n"
    if facts.upvotes is not None:
        yield f"{w} {T['kg:upvotes']} {_typed(facts.upvotes, XSD_INTEGER)} .\n"
    if facts.organization:
        yield f"{w} {T['kg:organization']} {literal_term(facts.organization)} .\n"
    if facts.arxiv_id:
        yield f"{w} {T['kg:arxivId']} {literal_term(facts.arxiv_id)} .\n"
    if facts.matched_by:
        yield f"{w} {T['kg:matchedBy']} {literal_term(facts.matched_by)} .\n"
    if facts.match_score is not None:
        yield f"{w} {T['kg:matchScore']} {_typed(facts.match_score, XSD_DECIMAL)} .\n"


def ntriples_lines(lines: Iterable[Line]) -> list[Line]:
    """Unique lines in sorted order: the canonical, diffable form of a small export (large ones sort on disk)."""
    return sorted(set(lines))


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
