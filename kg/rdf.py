"""Works as RDF, in the SemOpenAlex vocabulary.

Using SemOpenAlex's IRIs and terms means a query written against kg's export
also runs on https://semopenalex.org/sparql. Facts only kg knows (which feed a
work came from, upvotes, how it was matched) live in kg's own namespace.
`work_lines` is a pure per-work function, so it runs unchanged wherever records
are (one process or a distributed job); everything else assembles its output.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Iterator

from rdflib import RDF, XSD, Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, ORG, SKOS

from kg.model import Authorship, FeedFacts, Work, short

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


def _typed(value: object, datatype: URIRef) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, float):
        value = format(Decimal(repr(round(value, 4))).normalize(), "f")  # canonical xsd:decimal: 1, 0.95
    return f'"{value}"^^<{datatype}>'


def entity(kind: str, openalex_id: str) -> URIRef:
    return URIRef(f"{SEMOPENALEX}{kind}/{short(openalex_id)}")


A, SAME_AS, TITLE, ABSTRACT, CREATOR = (_iri(t) for t in (RDF.type, OWL.sameAs, DCTERMS.title, DCTERMS.abstract,
                                                           DCTERMS.creator))
NAME, LABEL, MEMBER_OF, COUNTRY = (_iri(t) for t in (FOAF.name, SKOS.prefLabel, ORG.memberOf, DBP.countryCode))


def work_lines(work: Work) -> Iterator[Line]:
    """Every N-Triples line one work contributes, with its authors, institutions, venue and topics.

    Lines are formatted directly (no term objects) because this runs once per
    triple of the whole export: it is the build's inner loop. Entities shared
    by several works repeat; the export sorts and deduplicates.
    """
    w = _iri(entity("work", work.id))
    yield f"{w} {A} <{SOA.Work}> .\n"
    yield f"{w} {SAME_AS} <{work.id}> .\n"
    if work.title is not None:
        yield f"{w} {TITLE} {literal_term(work.title)} .\n"
    if work.abstract:
        yield f"{w} {ABSTRACT} {literal_term(work.abstract)} .\n"
    if work.year is not None:
        yield f"{w} <{FABIO.hasPublicationYear}> {_typed(work.year, XSD.integer)} .\n"
    if work.date:
        yield f"{w} <{PRISM.publicationDate}> {_typed(work.date, XSD.date)} .\n"
    if work.doi:
        yield f"{w} <{DATACITE.doi}> {literal_term(work.doi)} .\n"
    if work.cited_by_count is not None:
        yield f"{w} <{SOA.citedByCount}> {_typed(work.cited_by_count, XSD.integer)} .\n"
    cites = f"{w} <{CITO.cites}> <{SEMOPENALEX}work/"
    for reference in work.references:
        yield f"{cites}{short(reference)}> .\n"
    if work.source:
        location = f"<{SEMOPENALEX}location/{short(work.id)}-primary>"
        s = _iri(entity("source", work.source.id))
        yield f"{w} <{SOA.hasPrimaryLocation}> {location} .\n"
        yield f"{w} <{SOA.hasLocation}> {location} .\n"
        yield f"{location} {A} <{SOA.Location}> .\n"
        yield f"{location} <{SOA.hasSource}> {s} .\n"
        yield f"{s} {A} <{SOA.Source}> .\n"
        if work.source.name:
            yield f"{s} {NAME} {literal_term(work.source.name)} .\n"
    for authorship in work.authorships:
        yield from _authorship_lines(w, work, authorship)
    for topic in work.topics + ([work.primary_topic] if work.primary_topic else []):
        t = _iri(entity("topic", topic.id))
        yield f"{w} <{SOA.hasTopic}> {t} .\n"
        yield f"{t} {A} <{SOA.Topic}> .\n"
        if topic.name:
            yield f"{t} {LABEL} {literal_term(topic.name)} .\n"
    if work.primary_topic:
        yield f"{w} <{SOA.hasPrimaryTopic}> {_iri(entity('topic', work.primary_topic.id))} .\n"
    if work.feed:
        yield from _feed_lines(w, work.feed)


def _authorship_lines(w: str, work: Work, authorship: Authorship) -> Iterator[Line]:
    a = _iri(entity("author", authorship.author.id))
    node = f"<{SEMOPENALEX}authorship/{short(work.id)}{short(authorship.author.id)}>"
    yield f"{w} <{SOA.hasAuthorship}> {node} .\n"
    yield f"{w} {CREATOR} {a} .\n"
    yield f"{node} {A} <{SOA.Authorship}> .\n"
    yield f"{node} <{SOA.hasAuthor}> {a} .\n"
    yield f"{node} <{SOA.position}> {_typed(authorship.position, XSD.integer)} .\n"
    if authorship.is_corresponding is not None:
        yield f"{node} <{SOA.isCorresponding}> {_typed(authorship.is_corresponding, XSD.boolean)} .\n"
    if authorship.raw_affiliation:
        yield f"{node} <{SOA.rawAffiliation}> {literal_term(authorship.raw_affiliation)} .\n"
    yield f"{a} {A} <{SOA.Author}> .\n"
    if authorship.author.name:
        yield f"{a} {NAME} {literal_term(authorship.author.name)} .\n"
    if authorship.author.orcid:
        yield f"{a} <{DBO.orcidId}> {literal_term(authorship.author.orcid)} .\n"
    for institution in authorship.institutions:
        i = _iri(entity("institution", institution.id))
        yield f"{node} <{SOA.hasOrganization}> {i} .\n"
        yield f"{a} {MEMBER_OF} {i} .\n"
        yield f"{i} {A} <{SOA.Institution}> .\n"
        if institution.name:
            yield f"{i} {NAME} {literal_term(institution.name)} .\n"
        if institution.ror:
            yield f"{i} <{SOA.ror}> {literal_term(institution.ror.rstrip('/').rsplit('/', 1)[-1])} .\n"
        if institution.country:
            yield f"{i} {COUNTRY} {literal_term(institution.country)} .\n"


def _feed_lines(w: str, facts: FeedFacts) -> Iterator[Line]:
    yield f"{w} {A} <{KG.FeedWork}> .\n"
    for name in facts.feeds:
        yield f"{w} <{KG.feed}> {literal_term(name)} .\n"
    if facts.feed_date:
        yield f"{w} <{KG.feedDate}> {_typed(facts.feed_date, XSD.date)} .\n"
    if facts.upvotes is not None:
        yield f"{w} <{KG.upvotes}> {_typed(facts.upvotes, XSD.integer)} .\n"
    if facts.organization:
        yield f"{w} <{KG.organization}> {literal_term(facts.organization)} .\n"
    if facts.arxiv_id:
        yield f"{w} <{KG.arxivId}> {literal_term(facts.arxiv_id)} .\n"
    if facts.matched_by:
        yield f"{w} <{KG.matchedBy}> {literal_term(facts.matched_by)} .\n"
    if facts.match_score is not None:
        yield f"{w} <{KG.matchScore}> {_typed(facts.match_score, XSD.decimal)} .\n"


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
