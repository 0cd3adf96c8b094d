"""The columnar transform: flat work tables (`kg.columns`) → triples, graph nodes and edges, export tables.

It is SQL text, one definition for two engines: DuckDB runs it in `kg build`, Spark SQL in
`kg snapshot build`. Each output is a SELECT over the flat tables, so the engine vectorises and
parallelises it, and sorting and deduplication happen in the engine, out of core when large. Its output
equals that of the per-record build it replaced (kept in tests/fixtures/reference-build): same triples,
same nodes with the same settled attributes, same edges in the same order, same table rows.

`Dialect` holds the few spellings the engines do not share.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import XSD

from kg.graph import NODE_ATTRIBUTES
from kg.rdf import SEMOPENALEX, T
from kg.sqltext import joined, nt_escape, short, text


@dataclass(frozen=True)
class Dialect:
    """`matches` formats a regular-expression test of ({0}: value, {1}: pattern); `struct` names the function
    that makes a comparable tuple of its arguments; `explode` formats one row per item of a list of
    expressions ({0})."""

    name: str
    matches: str
    struct: str
    explode: str


DUCKDB = Dialect("duckdb", "regexp_matches({0}, {1})", "row", "unnest(list_value({0}))")
SPARK = Dialect("spark", "({0} rlike {1})", "struct", "explode(array({0}))")


def _line(subject: str, predicate: str, object_: str) -> str:
    """An N-Triples line (with its newline) from three SQL expressions. Its parts are joined with one `concat`
    (`sqltext.joined`): none is NULL where a line is made, since ids are NOT NULL columns
    (`kg.columns.FLAT_TABLES`) and every other value is guarded by its fact's condition."""
    return joined(subject, "' '", predicate, "' '", object_, "' .'", "chr(10)")


def _iri_of(kind: str, expression: str) -> str:
    return joined(text(f"<{SEMOPENALEX}{kind}/"), short(expression), "'>'")


def _term(curie: str) -> str:
    return text(T[curie])


class _Triples:
    """The SELECTs whose union is every triple: the work, its authorships, locations, topics, feed facts."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect

    def literal(self, expression: str) -> str:
        return joined("chr(34)", nt_escape(expression, self.dialect.matches), "chr(34)")

    def typed(self, expression: str, datatype: str) -> str:
        return joined(self.literal(expression), text(f"^^<{datatype}>"))

    def selects(self) -> list[str]:
        """One SELECT per table read, so each table is scanned once: a row's candidate lines go into an array
        that is exploded, and the lines whose condition failed (NULL) are dropped. What describes a shared
        entity (an author, institution, source or topic) is made from its distinct rows, not once per work
        naming it: the engine's final sort drops repeats anyway, but fewer lines are built and sorted."""
        w = _iri_of("work", "w.id")
        work_facts = [
            (w, _term("rdf:type"), _term("soa:Work"), "TRUE"),
            (w, _term("owl:sameAs"), joined("'<'", "w.id", "'>'"), "TRUE"),
            (w, _term("dcterms:title"), self.literal("w.title"), "w.title IS NOT NULL"),
            (w, _term("dcterms:abstract"), self.literal("w.abstract"), "w.abstract <> ''"),
            (w, _term("fabio:hasPublicationYear"), self.typed("CAST(w.year AS STRING)", XSD.integer),
             "w.year IS NOT NULL"),
            (w, _term("prism:publicationDate"), self.typed("w.date", XSD.date), "w.date <> ''"),
            (w, _term("datacite:doi"), self.literal("w.doi"), "w.doi <> ''"),
            (w, _term("soa:citedByCount"), self.typed("CAST(w.cited_by_count AS STRING)", XSD.integer),
             "w.cited_by_count IS NOT NULL"),
            (w, _term("soa:hasPrimaryTopic"), _iri_of("topic", "w.primary_topic_id"), "w.primary_topic_id IS NOT NULL"),
        ]
        citation = [(_iri_of("work", "c.work_id"), _term("cito:cites"), _iri_of("work", "c.cited_id"), "TRUE")]
        return [self._select("works w", work_facts + self._source()),
                self._select("(SELECT DISTINCT source_id, source_name FROM works WHERE source_id IS NOT NULL) w",
                             self._source_facts()),
                self._select("citations c", citation),
                self._select("authorships s", self._authorships()),
                self._select("(SELECT DISTINCT author_id, name, orcid FROM authorships) s", self._authors()),
                self._select("affiliations f", self._affiliations()),
                self._select("(SELECT DISTINCT author_id, institution_id FROM affiliations) f", self._memberships()),
                self._select("(SELECT DISTINCT institution_id, name, ror, country FROM affiliations) f",
                             self._institutions()),
                self._select("(SELECT work_id, topic_id FROM topics UNION ALL SELECT id, primary_topic_id "
                             "FROM works WHERE primary_topic_id IS NOT NULL) t", self._work_topics()),
                self._select("(SELECT DISTINCT topic_id, name FROM topics UNION ALL SELECT DISTINCT primary_topic_id, "
                             "primary_topic_name FROM works WHERE primary_topic_id IS NOT NULL) t", self._topics()),
                self._select("feed f JOIN works ON works.id = f.work_id", self._feed()),
                self._select("feed_names f JOIN works ON works.id = f.work_id",
                             [(_iri_of("work", "f.work_id"), _term("kg:feed"), self.literal("f.feed"), "TRUE")])]

    def _select(self, source: str, facts: list[tuple[str, str, str, str]]) -> str:
        lines = [_line(s, p, o) if where == "TRUE" else f"CASE WHEN {where} THEN {_line(s, p, o)} END"
                 for s, p, o, where in facts]
        if len(lines) == 1:
            return f"SELECT {lines[0]} AS line FROM {source}"
        return (f"SELECT line FROM (SELECT {self.dialect.explode.format(', '.join(lines))} AS line FROM {source}) "
                "candidates WHERE line IS NOT NULL")

    def _source(self) -> list[tuple[str, str, str, str]]:
        w, s = _iri_of("work", "w.id"), _iri_of("source", "w.source_id")
        location = joined(text(f"<{SEMOPENALEX}location/"), short("w.id"), "'-primary>'")
        facts = [(w, _term("soa:hasPrimaryLocation"), location), (w, _term("soa:hasLocation"), location),
                 (location, _term("rdf:type"), _term("soa:Location")), (location, _term("soa:hasSource"), s)]
        return [(*fact, "w.source_id IS NOT NULL") for fact in facts]

    def _source_facts(self) -> list[tuple[str, str, str, str]]:
        s = _iri_of("source", "w.source_id")
        return [(s, _term("rdf:type"), _term("soa:Source"), "TRUE"),
                (s, _term("foaf:name"), self.literal("w.source_name"), "w.source_name <> ''")]

    def _authorships(self) -> list[tuple[str, str, str, str]]:
        w, a = _iri_of("work", "s.work_id"), _iri_of("author", "s.author_id")
        node = joined(text(f"<{SEMOPENALEX}authorship/"), short("s.work_id"), short("s.author_id"), "'>'")
        return [
            (w, _term("soa:hasAuthorship"), node, "TRUE"), (w, _term("dcterms:creator"), a, "TRUE"),
            (node, _term("rdf:type"), _term("soa:Authorship"), "TRUE"), (node, _term("soa:hasAuthor"), a, "TRUE"),
            (node, _term("soa:position"), self.typed("CAST(s.position AS STRING)", XSD.integer), "TRUE"),
            (node, _term("soa:isCorresponding"),
             self.typed("CASE WHEN s.is_corresponding THEN 'true' ELSE 'false' END", XSD.boolean),
             "s.is_corresponding IS NOT NULL"),
            (node, _term("soa:rawAffiliation"), self.literal("s.raw_affiliation"), "s.raw_affiliation <> ''"),
        ]

    def _authors(self) -> list[tuple[str, str, str, str]]:
        a = _iri_of("author", "s.author_id")
        return [(a, _term("rdf:type"), _term("soa:Author"), "TRUE"),
                (a, _term("foaf:name"), self.literal("s.name"), "s.name <> ''"),
                (a, _term("dbo:orcidId"), self.literal("s.orcid"), "s.orcid <> ''")]

    def _affiliations(self) -> list[tuple[str, str, str, str]]:
        i = _iri_of("institution", "f.institution_id")
        node = joined(text(f"<{SEMOPENALEX}authorship/"), short("f.work_id"), short("f.author_id"), "'>'")
        return [(node, _term("soa:hasOrganization"), i, "TRUE")]

    def _memberships(self) -> list[tuple[str, str, str, str]]:
        return [(_iri_of("author", "f.author_id"), _term("org:memberOf"), _iri_of("institution", "f.institution_id"),
                 "TRUE")]

    def _institutions(self) -> list[tuple[str, str, str, str]]:
        i = _iri_of("institution", "f.institution_id")
        return [
            (i, _term("rdf:type"), _term("soa:Institution"), "TRUE"),
            (i, _term("foaf:name"), self.literal("f.name"), "f.name <> ''"),
            (i, _term("soa:ror"), self.literal("regexp_extract(f.ror, '([^/]*)/*$', 1)"), "f.ror <> ''"),
            (i, _term("dbp:countryCode"), self.literal("f.country"), "f.country <> ''"),
        ]

    def _work_topics(self) -> list[tuple[str, str, str, str]]:
        return [(_iri_of("work", "t.work_id"), _term("soa:hasTopic"), _iri_of("topic", "t.topic_id"), "TRUE")]

    def _topics(self) -> list[tuple[str, str, str, str]]:
        t = _iri_of("topic", "t.topic_id")
        return [(t, _term("rdf:type"), _term("soa:Topic"), "TRUE"),
                (t, _term("skos:prefLabel"), self.literal("t.name"), "t.name <> ''")]

    def _feed(self) -> list[tuple[str, str, str, str]]:
        w = _iri_of("work", "f.work_id")
        score = ("CASE WHEN round(f.match_score, 4) = 0 THEN '0' ELSE regexp_replace("
                 "CAST(CAST(round(f.match_score, 4) AS DECIMAL(20, 4)) AS STRING), '[.]?0+$', '') END")
        return [
            (w, _term("rdf:type"), _term("kg:FeedWork"), "TRUE"),
            (w, _term("kg:feedDate"), self.typed("f.feed_date", XSD.date), "f.feed_date <> ''"),
            (w, _term("kg:upvotes"), self.typed("CAST(f.upvotes AS STRING)", XSD.integer), "f.upvotes IS NOT NULL"),
            (w, _term("kg:organization"), self.literal("f.organization"), "f.organization <> ''"),
            (w, _term("kg:arxivId"), self.literal("f.arxiv_id"), "f.arxiv_id <> ''"),
            (w, _term("kg:matchedBy"), self.literal("f.matched_by"), "f.matched_by <> ''"),
            (w, _term("kg:matchScore"), self.typed(score, XSD.decimal), "f.match_score IS NOT NULL"),
        ]


def triples(dialect: Dialect) -> str:
    """Every N-Triples line of the works (one string column, `line`), repeats included: shared entities
    are described by every work that names them. The engine sorts and deduplicates."""
    return "\nUNION ALL\n".join(_Triples(dialect).selects())


# Graph nodes. A work's own node is complete; every other node is settled from its sightings: each
# attribute from the earliest sighting (works in id order, then as the work lists them) that has it. An id
# names one kind of entity (W…, A…, I…, S…, T…), so each kind is settled from its own table: cited works
# carry no attribute to settle, and the aggregates stay small.
_SIGHTINGS = {
    "author": ("SELECT author_id AS id, work_no, position, 0 AS rank, name, orcid FROM authorships", ("name", "orcid")),
    "institution": ("SELECT institution_id AS id, work_no, position, rank, name, ror, country FROM affiliations",
                    ("name", "ror", "country")),
    "source": ("SELECT source_id AS id, work_no, 0 AS position, 0 AS rank, source_name AS name, source_type "
               "FROM works WHERE source_id IS NOT NULL", ("name", "source_type")),
    "topic": ("SELECT topic_id AS id, work_no, 0 AS position, rank, name FROM topics UNION ALL "
              "SELECT primary_topic_id, work_no, 0, 1000000, primary_topic_name FROM works "
              "WHERE primary_topic_id IS NOT NULL", ("name",)),
}


def _earliest(column: str, dialect: Dialect) -> str:
    return f"min_by({column}, {dialect.struct}(work_no, position, rank)) FILTER (WHERE {column} IS NOT NULL)"


NODE_COLUMNS = ["id", *NODE_ATTRIBUTES]
"""The node table's columns: the id, then `graph.NODE_ATTRIBUTES` in order (NULL: not set)."""
NODE_ORDER = "part, number, id"
"""The order `kg build` writes nodes in: works in id order, then the other nodes by id."""


def _settled(kind: str, dialect: Dialect) -> str:
    source, attributes = _SIGHTINGS[kind]
    values = {name: f"{_earliest(name, dialect)}" for name in attributes}
    columns = {name: values.get(name, "NULL") for name in NODE_ATTRIBUTES}
    columns.update(kind=f"'{kind}'", label=values["name"])
    return (f"SELECT id, {', '.join(f'{value} AS {name}' for name, value in columns.items())}, 1 AS part, "
            f"0 AS number FROM ({source}) s WHERE NOT EXISTS (SELECT 1 FROM works w WHERE w.id = s.id) GROUP BY id")


def nodes(dialect: Dialect) -> str:
    """Every graph node, with the keys of `NODE_ORDER`."""
    work = {name: "NULL" for name in NODE_ATTRIBUTES}
    work.update(kind="'work'", label="w.title", title="w.title", year="w.year", doi="w.doi",
                cited_by_count="w.cited_by_count", feed="f.work_id IS NOT NULL", hydrated="TRUE", upvotes="f.upvotes",
                arxiv_id="f.arxiv_id")
    cited = {name: "NULL" for name in NODE_ATTRIBUTES}
    cited.update(kind="'work'", feed="FALSE", hydrated="FALSE")
    return "\nUNION ALL\n".join([
        f"SELECT w.id, {', '.join(f'{v} AS {k}' for k, v in work.items())}, 0 AS part, w.work_no AS number "
        "FROM works w LEFT JOIN feed f ON f.work_id = w.id",
        f"SELECT DISTINCT c.cited_id AS id, {', '.join(f'{v} AS {k}' for k, v in cited.items())}, 1 AS part, "
        "0 AS number FROM citations c WHERE NOT EXISTS (SELECT 1 FROM works w WHERE w.id = c.cited_id)",
        *(_settled(kind, dialect) for kind in _SIGHTINGS)])


EDGE_COLUMNS = {"relation": "relation", "position": "position", "primary": "is_primary"}
"""Edge attribute (`graph.EDGE_ATTRIBUTES`) → its column in `edges`."""
EDGE_ORDER = "work_no, part, position_key, rank, target"
"""The order `kg build` writes edges in, numbering them from 0: by work, then its citations, authorships
(with their affiliations), source and topics, in the record's order."""


def edges(dialect: Dialect) -> str:
    """Every graph edge, with the keys of `EDGE_ORDER`; affiliations repeat across works and are kept once,
    where first seen."""
    first = f"{dialect.struct}(work_no, position, rank)"
    return f"""
    SELECT source, target, relation, position_attribute AS position, primary_attribute AS is_primary,
           work_no, part, position AS position_key, rank
    FROM (
        SELECT work_no, 0 AS part, 0 AS position, 0 AS rank, work_id AS source, cited_id AS target,
               'cites' AS relation, NULL AS position_attribute, NULL AS primary_attribute FROM citations
        UNION ALL
        SELECT work_no, 1, min(position), 0, author_id, work_id, 'authored', min(position), NULL
        FROM authorships GROUP BY work_no, author_id, work_id
        UNION ALL
        SELECT min(work_no), 1, min_by(position, {first}), min_by(rank, {first}) + 1, author_id, institution_id,
               'affiliated_with', NULL, NULL
        FROM affiliations GROUP BY author_id, institution_id
        UNION ALL
        SELECT work_no, 2, 0, 0, id, source_id, 'published_in', NULL, NULL FROM works WHERE source_id IS NOT NULL
        UNION ALL
        SELECT t.work_no, 3, 0, min(t.rank), t.work_id, t.topic_id, 'has_topic', NULL,
               coalesce(t.topic_id = any_value(w.primary_topic_id), FALSE)
        FROM (SELECT work_no, work_id, rank, topic_id FROM topics
              UNION ALL SELECT work_no, id, 1000000, primary_topic_id FROM works WHERE primary_topic_id IS NOT NULL) t
        JOIN works w ON w.work_no = t.work_no
        GROUP BY t.work_no, t.work_id, t.topic_id
    )"""


def _first_sighting(table: str, columns: str, order: str) -> str:
    return (f"SELECT {columns} FROM (SELECT {columns}, row_number() OVER (PARTITION BY id ORDER BY {order}) AS seen "
            f"FROM {table}) WHERE seen = 1 ORDER BY id")


TABLES = {
    "works": """
        SELECT w.id, w.title, w.abstract, w.year, w.date, w.doi, w.type, w.cited_by_count, w.source_id,
               w.primary_topic_id, f.work_id IS NOT NULL AS is_feed, f.feeds, f.upvotes, f.arxiv_id, f.matched_by,
               f.match_score, (SELECT count(*) FROM citations c WHERE c.work_no = w.work_no) AS reference_count
        FROM works w LEFT JOIN feed f ON f.work_id = w.id ORDER BY w.work_no""",
    "authors": _first_sighting("(SELECT author_id AS id, name, orcid, work_no, position FROM authorships)",
                               "id, name, orcid", "work_no, position"),
    "institutions": _first_sighting(
        "(SELECT institution_id AS id, name, ror, country, work_no, position, rank FROM affiliations)",
        "id, name, ror, country", "work_no, position, rank"),
    "sources": _first_sighting(
        "(SELECT source_id AS id, source_name AS name, source_type AS type, source_issn_l AS issn_l, work_no "
        "FROM works WHERE source_id IS NOT NULL)", "id, name, type, issn_l", "work_no"),
    "topics": _first_sighting(
        "(SELECT topic_id AS id, name, work_no, rank FROM topics UNION ALL SELECT primary_topic_id, "
        "primary_topic_name, work_no, 1000000 FROM works WHERE primary_topic_id IS NOT NULL)", "id, name",
        "work_no, rank"),
    "authorships": """
        SELECT s.work_id, s.author_id, s.position, i.institution_ids, s.is_corresponding, s.raw_affiliation
        FROM authorships s LEFT JOIN (
            SELECT work_no, position, string_agg(institution_id, ';' ORDER BY rank) AS institution_ids
            FROM affiliations GROUP BY work_no, position) i ON i.work_no = s.work_no AND i.position = s.position
        ORDER BY s.work_no, s.position""",
    "citations": "SELECT work_id AS citing_id, cited_id FROM citations ORDER BY work_no, cited_id",
}
"""The export tables (`kg.tables.SCHEMAS`) as SELECTs over the flat tables, rows in `kg build`'s order."""
