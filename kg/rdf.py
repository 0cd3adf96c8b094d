"""Works as RDF, in the SemOpenAlex vocabulary.

Using SemOpenAlex's IRIs and terms means a query written against kg's export
also runs on https://semopenalex.org/sparql. Facts only kg knows (which feed a
work came from, upvotes, how it was matched) live in kg's own namespace.
`work_triples` is a pure per-work function; everything else assembles its output.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, ORG, SKOS

from kg.model import Work, short

SOA = Namespace("https://semopenalex.org/ontology/")
CITO = Namespace("http://purl.org/spar/cito/")
FABIO = Namespace("http://purl.org/spar/fabio/")
PRISM = Namespace("http://prismstandard.org/namespaces/basic/2.0/")
DATACITE = Namespace("http://purl.org/spar/datacite/")
DBO = Namespace("https://dbpedia.org/ontology/")
GN = Namespace("https://www.geonames.org/ontology#")
KG = Namespace("https://w3id.org/kg-feeds/ns#")
SEMOPENALEX = "https://semopenalex.org/"

PREFIXES = {"soa": SOA, "cito": CITO, "fabio": FABIO, "prism": PRISM, "datacite": DATACITE, "dbo": DBO,
            "gn": GN, "kg": KG, "dcterms": DCTERMS, "foaf": FOAF, "owl": OWL, "org": ORG, "skos": SKOS,
            "xsd": XSD}

Triple = tuple[URIRef, URIRef, URIRef | Literal]


def entity(kind: str, openalex_id: str) -> URIRef:
    return URIRef(f"{SEMOPENALEX}{kind}/{short(openalex_id)}")


def _literal(value: object, datatype: URIRef | None = None) -> Literal:
    return Literal(value, datatype=datatype)


def work_triples(work: Work) -> Iterator[Triple]:
    """Every triple one work contributes, including its authors, institutions, venue and topics."""
    w = entity("work", work.id)
    yield w, RDF.type, SOA.Work
    yield w, OWL.sameAs, URIRef(work.id)
    if work.title is not None:
        yield w, DCTERMS.title, _literal(work.title)
    if work.abstract:
        yield w, DCTERMS.abstract, _literal(work.abstract)
    if work.year is not None:
        yield w, FABIO.hasPublicationYear, _literal(work.year, XSD.integer)
    if work.date:
        yield w, PRISM.publicationDate, _literal(work.date, XSD.date)
    if work.doi:
        yield w, DATACITE.doi, _literal(work.doi)
    if work.cited_by_count is not None:
        yield w, SOA.citedByCount, _literal(work.cited_by_count, XSD.integer)
    for reference in work.references:
        yield w, CITO.cites, entity("work", reference)
    if work.source:
        location = URIRef(f"{SEMOPENALEX}location/{short(work.id)}-primary")
        s = entity("source", work.source.id)
        yield w, SOA.hasPrimaryLocation, location
        yield w, SOA.hasLocation, location
        yield location, RDF.type, SOA.Location
        yield location, SOA.hasSource, s
        yield s, RDF.type, SOA.Source
        if work.source.name:
            yield s, FOAF.name, _literal(work.source.name)
    for authorship in work.authorships:
        a = entity("author", authorship.author.id)
        node = URIRef(f"{SEMOPENALEX}authorship/{short(work.id)}{short(authorship.author.id)}")
        yield w, SOA.hasAuthorship, node
        yield w, DCTERMS.creator, a
        yield node, RDF.type, SOA.Authorship
        yield node, SOA.hasAuthor, a
        yield node, SOA.position, _literal(authorship.position, XSD.integer)
        if authorship.is_corresponding is not None:
            yield node, SOA.isCorresponding, _literal(authorship.is_corresponding, XSD.boolean)
        if authorship.raw_affiliation:
            yield node, SOA.rawAffiliation, _literal(authorship.raw_affiliation)
        yield a, RDF.type, SOA.Author
        if authorship.author.name:
            yield a, FOAF.name, _literal(authorship.author.name)
        if authorship.author.orcid:
            yield a, DBO.orcidId, _literal(authorship.author.orcid)
        for institution in authorship.institutions:
            i = entity("institution", institution.id)
            yield node, SOA.hasOrganization, i
            yield a, ORG.memberOf, i
            yield i, RDF.type, SOA.Institution
            if institution.name:
                yield i, FOAF.name, _literal(institution.name)
            if institution.ror:
                yield i, SOA.ror, _literal(institution.ror.rstrip("/").rsplit("/", 1)[-1])
            if institution.country:
                yield i, GN.countryCode, _literal(institution.country)
    for topic in work.topics + ([work.primary_topic] if work.primary_topic else []):
        t = entity("topic", topic.id)
        yield w, SOA.hasTopic, t
        yield t, RDF.type, SOA.Topic
        if topic.name:
            yield t, SKOS.prefLabel, _literal(topic.name)
    if work.primary_topic:
        yield w, SOA.hasPrimaryTopic, entity("topic", work.primary_topic.id)
    if work.feed:
        yield from _feed_triples(w, work)


def _feed_triples(w: URIRef, work: Work) -> Iterator[Triple]:
    facts = work.feed
    yield w, RDF.type, KG.FeedWork
    for name in facts.feeds:
        yield w, KG.feed, _literal(name)
    if facts.feed_date:
        yield w, KG.feedDate, _literal(facts.feed_date, XSD.date)
    if facts.upvotes is not None:
        yield w, KG.upvotes, _literal(facts.upvotes, XSD.integer)
    if facts.organization:
        yield w, KG.organization, _literal(facts.organization)
    if facts.arxiv_id:
        yield w, KG.arxivId, _literal(facts.arxiv_id)
    if facts.matched_by:
        yield w, KG.matchedBy, _literal(facts.matched_by)
    if facts.match_score is not None:
        yield w, KG.matchScore, _literal(facts.match_score, XSD.decimal)


_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _nt_term(term: URIRef | Literal) -> str:
    """One term in N-Triples syntax, every control character escaped (rdflib's n3() may emit raw newlines)."""
    if not isinstance(term, Literal):
        return f"<{term}>"
    text = "".join(_ECHAR.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or c in "\u2028\u2029" else c)
                   for c in str(term))
    if term.language:
        return f'"{text}"@{term.language}'
    if term.datatype and term.datatype != XSD.string:
        return f'"{text}"^^<{term.datatype}>'
    return f'"{text}"'


def ntriples_lines(triples: Iterable[Triple]) -> list[str]:
    """Unique N-Triples lines in sorted order: the canonical, diffable form of the export."""
    return sorted({f"{_nt_term(s)} {_nt_term(p)} {_nt_term(o)} .\n" for s, p, o in triples})


def graph_from_lines(lines: list[str]) -> Graph:
    """An rdflib graph holding the triples in sorted order (so its serialisations are stable)."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph.parse(data="".join(lines), format="nt")
    return graph
