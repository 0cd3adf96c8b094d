"""SPARQL over the export: the query library, parameter binding, an embedded engine and remote endpoints.

Library queries are `.rq` files whose leading comment block says what they
answer and which parameters they take (`# parameters:` lines of the form
`name (kind): description`). Parameters are bound by inserting a `VALUES`
block, holding properly escaped RDF terms, at the start of the query's WHERE
group, so a value can never change the query's structure, and the same
bound query runs embedded (Oxigraph) and on any SPARQL 1.1 endpoint.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import requests
import urllib3

from kg.errors import QueryError
from kg.rdf import SEMOPENALEX, literal_term
from kg.writers.staging import settled

LIBRARY = Path(__file__).resolve().parent / "queries"
XSD = "http://www.w3.org/2001/XMLSchema#"
PARAMETER_KINDS = {
    "work": "a work: OpenAlex id (W…), https://openalex.org/ URL or SemOpenAlex IRI",
    "author": "an author: OpenAlex id (A…), URL or SemOpenAlex IRI",
    "iri": "any IRI",
    "string": "text",
    "integer": "a whole number",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str
    description: str


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    title: str = ""
    answers: str = ""
    semopenalex: str = ""
    parameters: tuple[Parameter, ...] = ()


def _header(text: str) -> dict[str, str]:
    """The leading comment block as `key: value` fields (indented lines continue the previous field)."""
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].rstrip()
        match = re.match(r"\s?([a-z]+):\s*(.*)$", body)
        if match and not body.startswith("   "):
            key = match.group(1)
            fields[key] = match.group(2)
        elif key:
            fields[key] += "\n" + body.strip()
    return fields


def parse_query(name: str, text: str) -> Query:
    fields = _header(text)
    parameters = tuple(
        Parameter(m.group(1), m.group(2), m.group(3).strip())
        for m in re.finditer(r"^(\w+) \((\w+)\):\s*(.*)$", fields.get("parameters", ""), re.MULTILINE))
    for parameter in parameters:
        if parameter.kind not in PARAMETER_KINDS:
            raise QueryError(f"{name}: parameter {parameter.name} has unknown kind {parameter.kind!r} "
                             f"(use one of {', '.join(PARAMETER_KINDS)})")
    return Query(name, text, fields.get("title", ""), " ".join(fields.get("answers", "").split()),
                 fields.get("semopenalex", ""), parameters)


def library(folder: Path = LIBRARY) -> dict[str, Query]:
    return {path.stem: parse_query(path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.rq"))}


def find_query(name_or_file: str, folder: Path = LIBRARY) -> Query:
    """A library query by name, or any .rq file by path."""
    path = Path(name_or_file)
    if path.suffix == ".rq" or path.exists():
        if not path.is_file():
            raise QueryError(f"no query file {path}")
        try:
            return parse_query(path.stem, path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise QueryError(f"{path}: not UTF-8 text (byte {error.start}); save the query as UTF-8") from None
    queries = library(folder)
    if name_or_file not in queries:
        raise QueryError(f"no library query named {name_or_file!r}; available: {', '.join(queries)} "
                         f"(or give the path of a .rq file)")
    return queries[name_or_file]


def parameter_term(parameter: Parameter, value: str) -> str:
    """A parameter value as a SPARQL term, escaped so that it can only ever be one term."""
    if parameter.kind in ("work", "author"):
        match = re.fullmatch(r"(?:https?://(?:openalex\.org|semopenalex\.org/\w+)/)?([A-Za-z]\d+)", value.strip())
        prefix = {"work": "W", "author": "A"}[parameter.kind]
        if not match or match.group(1)[0].upper() != prefix:
            raise QueryError(f"--param {parameter.name}={value}: expected {PARAMETER_KINDS[parameter.kind]}")
        return f"<{SEMOPENALEX}{parameter.kind}/{prefix}{match.group(1)[1:]}>"
    if parameter.kind == "iri":
        if not re.fullmatch(r"[a-zA-Z][\w+.-]*:[^\s<>\"{}|\\^`]*", value):
            raise QueryError(f"--param {parameter.name}={value}: not an absolute IRI")
        return f"<{value}>"
    if parameter.kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", value.strip()):
            raise QueryError(f"--param {parameter.name}={value}: expected a whole number")
        return f'"{int(value)}"^^<{XSD}integer>'
    return literal_term(value)


def _where_brace(text: str) -> int:
    """Offset of the `{` opening the query's WHERE group, skipping comments, strings and IRIs."""
    depth, position, seen_where, first_brace = 0, 0, False, None
    pattern = re.compile(r'#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                         r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|\bWHERE\b|[{}]',
                         re.IGNORECASE)
    for match in pattern.finditer(text, position):
        token = match.group(0)
        if token.upper() == "WHERE" and depth == 0:
            seen_where = True
        elif token == "{":
            if depth == 0:
                if seen_where:
                    return match.start()
                first_brace = match.start() if first_brace is None else first_brace
            depth += 1
        elif token == "}":
            depth -= 1
    if first_brace is None:
        raise QueryError("cannot bind parameters: the query has no WHERE group")
    return first_brace


def bind(query: Query, values: dict[str, str]) -> str:
    """The query text with its parameters bound; every declared parameter must be given, and only those."""
    declared = {p.name: p for p in query.parameters}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise QueryError(f"{query.name} has no parameter {', '.join(unknown)}; "
                         f"it takes {', '.join(declared) or 'none'}")
    missing = [name for name in declared if name not in values]
    if missing:
        raise QueryError(f"{query.name} needs " + " ".join(
            f"--param {name}=… ({declared[name].description or PARAMETER_KINDS[declared[name].kind]})"
            for name in missing))
    if not values:
        return query.text
    block = " ".join(f"VALUES ?{name} {{ {parameter_term(declared[name], value)} }}" for name, value in values.items())
    brace = _where_brace(query.text)
    return f"{query.text[:brace + 1]} {block} {query.text[brace + 1:]}"


def check_syntax(text: str, name: str) -> type:
    """Parse the query (by running it on an empty store); returns the kind of result it produces."""
    try:
        return type(ox.Store().query(text))
    except SyntaxError as error:
        message = str(error)
        match = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
        if match:
            message = f"line {match.group(1)}, column {match.group(2)}: {match.group(3)}"
        raise QueryError(f"syntax error in {name}: {message}") from None


@dataclass
class Results:
    """Query results in the SPARQL 1.1 JSON results shape, whatever engine produced them."""

    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, dict]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[str] | None = None


def _term_json(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if term.language:
        return {"type": "literal", "value": term.value, "xml:lang": term.language}
    if term.datatype.value == XSD + "string":
        return {"type": "literal", "value": term.value}
    return {"type": "literal", "value": term.value, "datatype": term.datatype.value}


def _normalise(binding: dict) -> dict:
    """One SPARQL JSON binding in the form the embedded engine gives (servers differ in small ways)."""
    kind = "literal" if binding["type"] == "typed-literal" else binding["type"]
    value = {"type": kind, "value": binding["value"]}
    if binding.get("xml:lang"):
        value["xml:lang"] = binding["xml:lang"]
    elif kind == "literal" and binding.get("datatype") not in (None, XSD + "string"):
        value["datatype"] = binding["datatype"]
    return value


class Embedded:
    """Oxigraph in process: an export folder loaded into memory, or a persistent store made by `kg load`."""

    def __init__(self, data: Path | None = None, db: Path | None = None):
        if db is not None:
            if not db.exists():
                raise QueryError(f"no database at {db}: create it with `kg load --db {db}`")
            try:
                self.store = ox.Store.read_only(str(db))
            except OSError as error:
                raise QueryError(f"cannot open the database at {db} ({error}): was it made by `kg load --db`?") from None
        else:
            ntriples = settled(data or Path("exports")) / "kg.nt"
            if not ntriples.exists():
                raise QueryError(f"no export in {data}/ (kg.nt missing): run `kg build --out {data}` first, "
                                 f"or pass --data DIR, --db PATH or --endpoint URL")
            self.store = ox.Store()
            self.store.bulk_load(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES)

    def run(self, text: str) -> Results:
        if re.search(r"\bSERVICE\s+(?:SILENT\s+)?[<?$]", text, re.I):
            raise QueryError("the embedded engine answers from the export only: SERVICE (a federated query) needs "
                             "--endpoint URL of a server that allows it")
        try:
            result = self.store.query(text)
        except (OSError, RuntimeError, ValueError) as error:
            raise QueryError(f"the query failed: {error}") from None
        if isinstance(result, ox.QueryBoolean):
            return Results(boolean=bool(result))
        if isinstance(result, ox.QueryTriples):
            return Results(triples=sorted(f"{triple} .\n" for triple in result))
        variables = [v.value for v in result.variables]
        rows = [{name: _term_json(solution[name]) for name in variables if solution[name] is not None}
                for solution in result]
        return Results(variables, rows)


class Endpoint:
    """Any SPARQL 1.1 Protocol endpoint (Oxigraph, Fuseki, QLever, https://semopenalex.org/sparql …)."""

    def __init__(self, url: str, timeout: float = 60):
        self.url = url
        self.timeout = timeout

    def run(self, text: str) -> Results:
        form = check_syntax(text, "query")
        accept = "application/n-triples" if form is ox.QueryTriples else "application/sparql-results+json"
        too_slow = QueryError(f"the endpoint {self.url} did not answer within {self.timeout:g} s "
                              "(raise --timeout, or simplify the query)")
        deadline = time.monotonic() + self.timeout
        try:
            response = requests.post(self.url, data={"query": text}, headers={"Accept": accept},
                                     timeout=self.timeout, stream=True)
            chunks = []
            while chunk := response.raw.read1(64 * 1024, decode_content=True):  # what has arrived, up to 64 KiB
                chunks.append(chunk)
                if time.monotonic() > deadline:  # the whole answer within --timeout, not each read
                    response.close()
                    raise too_slow
            content = b"".join(chunks)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise too_slow from None
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise QueryError(f"cannot reach the endpoint {self.url}: {type(error).__name__}") from None
        if response.status_code != 200:
            detail = " ".join(content.decode("utf-8", "replace").split())[:300]
            raise QueryError(f"the endpoint {self.url} answered HTTP {response.status_code}: {detail}")
        if form is ox.QueryTriples:
            return Results(triples=sorted(f"{t} .\n" for t in ox.parse(content, ox.RdfFormat.N_TRIPLES)))
        try:
            body = json.loads(content)
        except ValueError:
            raise QueryError(f"the endpoint {self.url} did not answer with SPARQL JSON results") from None
        if "boolean" in body:
            return Results(boolean=body["boolean"])
        return Results(body["head"]["vars"],
                       [{k: _normalise(v) for k, v in row.items()} for row in body["results"]["bindings"]])


def _plain(value: dict | None) -> str:
    return "" if value is None else value["value"]


def _rdf_term(value: dict | None) -> str:
    if value is None:
        return ""
    if value["type"] == "uri":
        return f"<{value['value']}>"
    if value["type"] == "bnode":
        return f"_:{value['value']}"
    term = literal_term(value["value"])
    if "xml:lang" in value:
        return f"{term}@{value['xml:lang']}"
    return f"{term}^^<{value['datatype']}>" if "datatype" in value else term


def serialise(results: Results, form: str) -> str:
    """Results as SPARQL 1.1 CSV (plain values), TSV (RDF terms) or JSON, for piping into other tools."""
    if results.triples is not None:
        return "".join(results.triples)
    if results.boolean is not None:
        return json.dumps({"head": {}, "boolean": results.boolean}) + "\n" if form == "json" \
            else ("true" if results.boolean else "false") + "\n"
    if form == "json":
        return json.dumps({"head": {"vars": results.variables}, "results": {"bindings": results.rows}},
                          ensure_ascii=False, indent=1) + "\n"
    buffer = io.StringIO()
    if form == "csv":
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(results.variables)
        writer.writerows([_plain(row.get(v)) for v in results.variables] for row in results.rows)
    else:
        buffer.write("\t".join(f"?{v}" for v in results.variables) + "\n")
        for row in results.rows:
            buffer.write("\t".join(_rdf_term(row.get(v)) for v in results.variables) + "\n")
    return buffer.getvalue()
