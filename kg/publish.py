"""Putting the export into SPARQL stores: a persistent on-disk Oxigraph (`kg load`) or any server that speaks the
SPARQL 1.1 Graph Store HTTP Protocol (`kg publish`). Querying them is `kg.query`'s job."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import requests

from kg.errors import QueryError
from kg.writers.staging import settled


def _ntriples(data: Path) -> Path:
    ntriples = settled(data) / "kg.nt"
    if not ntriples.exists():
        raise QueryError(f"no export in {data}/ (kg.nt missing): run `kg build --out {data}` first")
    return ntriples


def load_database(data: Path, db: Path) -> int:
    """Load an export into a persistent Oxigraph store at `db` (replacing what it held); returns its size."""
    ntriples = _ntriples(data)
    try:
        store = ox.Store(str(db))
    except OSError as error:
        raise QueryError(f"cannot open a database at {db} ({error}): give a new or existing database folder") from None
    store.clear()
    store.bulk_load(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES)
    store.optimize()
    size = len(store)
    store.flush()
    return size


def publish(data: Path, url: str, graph: str | None, replace: bool = True, timeout: float = 600) -> None:
    """Upload the export with the SPARQL 1.1 Graph Store HTTP Protocol (PUT replaces the graph, POST adds)."""
    ntriples = _ntriples(data)
    params = {"graph": graph} if graph else {"default": ""}
    method = requests.put if replace else requests.post
    try:
        with open(ntriples, "rb") as body:
            response = method(url, params=params, data=body, timeout=timeout,
                              headers={"Content-Type": "application/n-triples"})
    except requests.Timeout:
        raise QueryError(f"the graph store {url} did not answer within {timeout:g} s") from None
    except requests.RequestException as error:
        raise QueryError(f"cannot reach the graph store {url}: {type(error).__name__}") from None
    if response.status_code not in (200, 201, 204):
        detail = " ".join(response.text.split())[:300]
        raise QueryError(f"the graph store {url} answered HTTP {response.status_code}: {detail}")
