"""The package's layering: data flows one way, and the foundations import nothing heavy."""

import ast
import subprocess
import sys

from conftest import ROOT

# Foundations first, then the pipeline in the order data flows through it; the CLI composes them all.
STAGES = [
    ["errors", "ids", "text", "sqltext"],
    ["feeds.paper", "feeds.daily_page", "feeds.hf_json", "feeds.id_list", "feeds.bibtex", "feeds.ris",
     "feeds.csl_json", "feeds.arxiv_feed", "feeds"],
    ["sources", "sources.http", "sources.openalex", "sources.local", "sources.huggingface"],
    ["coverage"],
    ["resolve"],
    ["follow"],
    ["store"],
    ["enrich"],
    ["model"],
    ["columns"],
    ["graph"],
    ["threads"],
    ["rdf"],
    ["tables"],
    ["transform"],
    ["writers.files", "writers.triples", "writers.base", "writers.xml", "writers.lines", "writers.ntriples",
     "writers.rdf_files", "writers.tables",
     "writers.graph_files", "writers.staging", "writers.citations", "writers.turtle", "writers.jsonld",
     "writers.graphml", "writers.gexf", "writers"],
    ["thread_io"],
    ["changes"],
    ["digest"],
    ["export"],
    ["query", "publish"],
    ["render"],
    ["explore"],
    ["report"],
    ["snapshot"],
    ["cli", "__main__"],
]
RANK = {module: rank for rank, group in enumerate(STAGES) for module in group}


def kg_imports(path):
    """Every kg module a file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kg."):
            yield node.module[3:]
        elif isinstance(node, ast.Import):
            yield from (alias.name[3:] for alias in node.names if alias.name.startswith("kg."))


def test_every_module_has_a_stage():
    modules = {str(p.relative_to(ROOT / "kg").with_suffix("")).replace("/", ".").removesuffix(".__init__")
               for p in (ROOT / "kg").rglob("*.py") if p.name != "__init__.py" or p.parent != ROOT / "kg"}
    assert modules == set(RANK)


def test_no_stage_imports_a_later_stage():
    for path in (ROOT / "kg").rglob("*.py"):
        name = str(path.relative_to(ROOT / "kg").with_suffix("")).replace("/", ".").removesuffix(".__init__")
        if name not in RANK:
            continue
        for imported in kg_imports(path):
            assert RANK[imported] <= RANK[name], f"kg.{name} imports the later stage kg.{imported}"


def test_foundations_and_the_cli_start_import_nothing_heavy():
    code = ("import sys, kg.errors, kg.ids, kg.text, kg.cli; "
            "print(','.join(m for m in ('pyarrow', 'pyoxigraph', 'graphviz', 'pandas', 'rdflib', 'pyspark', "
            "'pyalex', 'requests_cache', 'networkx') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
