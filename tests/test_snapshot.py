"""`kg snapshot build` on Spark (local mode) against `kg build` on the same records.

The fixture is the synthetic world laid out like the OpenAlex snapshot: three
`updated_date` partitions, a Redshift-style manifest (plus a stray file it does
not list, which must be ignored) and the world's merged ids as a merged_ids CSV.
"""

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import WORLD, kg
from kg.export import build, load
from kg.ids import full_id
from kg.snapshot import build_snapshot
from kg.store import Store

DATES = ["2026-01-05", "2026-03-17", "2026-08-11"]


def world_records() -> list[dict]:
    with gzip.open(WORLD / "works.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def world_aliases() -> dict[str, str]:
    rows = [json.loads(line) for line in (WORLD / "merged.jsonl").read_text().splitlines() if line.strip()]
    return {row["old"]: row["new"] for row in rows}


def merged_entities() -> dict[str, str]:
    """An author and an institution of the world, merged into ids no record uses."""
    authorships = [a for r in world_records() for a in r.get("authorships") or []]
    author = next(a["author"]["id"] for a in authorships if (a.get("author") or {}).get("id"))
    institution = next(i["id"] for a in authorships for i in a.get("institutions") or [] if i.get("id"))
    return {full_id(author): "https://openalex.org/A9999999999",
            full_id(institution): "https://openalex.org/I9999999999"}


def write_merged_ids(folder: Path, aliases: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    with gzip.open(folder / "2026-08-11.csv.gz", "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["merge_date", "id", "merge_into_id"])
        for old, new in sorted(aliases.items()):
            writer.writerow(["2026-08-11", old.rsplit("/", 1)[-1], new.rsplit("/", 1)[-1]])


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("snapshot")
    records = world_records()
    entries = []
    for number, date in enumerate(DATES):
        folder = root / "data" / "works" / f"updated_date={date}"
        folder.mkdir(parents=True)
        for part in range(2):
            chunk = records[number * 2 + part::len(DATES) * 2]
            path = folder / f"part_{part:03d}.gz"
            with gzip.open(path, "wt", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r) + "\n" for r in chunk)
            entries.append({"url": f"s3://openalex/data/works/updated_date={date}/part_{part:03d}.gz",
                            "meta": {"content_length": path.stat().st_size, "record_count": len(chunk)}})
    with gzip.open(root / "data" / "works" / f"updated_date={DATES[0]}" / "part_999.gz", "wt") as stray:
        stray.write(json.dumps({"id": "https://openalex.org/W1", "title": "not in the manifest"}) + "\n")
    (root / "data" / "works" / "manifest").write_text(json.dumps(
        {"entries": entries, "meta": {"record_count": len(records)}}))
    write_merged_ids(root / "data" / "merged_ids" / "works", world_aliases())
    for entity, prefix in (("authors", "/A"), ("institutions", "/I")):
        write_merged_ids(root / "data" / "merged_ids" / entity,
                         {old: new for old, new in merged_entities().items() if prefix in old})
    return root


def spark_lines(out: Path) -> set[str]:
    lines = set()
    for part in sorted((out / "ntriples").glob("part-*.gz")):
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            lines.update(line.rstrip("\n") for line in handle)
    return lines


def spark_lines_in_order(out: Path) -> list[str]:
    lines = []
    for part in sorted((out / "ntriples").glob("part-*.gz")):
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            lines.extend(line.rstrip("\n") for line in handle)
    return lines


@pytest.fixture(scope="module")
def spark_out(layout, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("spark") / "out"
    counts = build_snapshot(layout, out, master="local[2]")
    assert counts["files"] == 6 and counts["works"] == len(world_records())
    return out


def test_spark_output_equals_kg_build_on_the_same_records(spark_out, tmp_path):
    store_path = tmp_path / "store.sqlite"
    with Store(store_path) as store:
        store.save_works(world_records(), "reference", complete=True,
                         aliases={**world_aliases(), **merged_entities()})
    build(store_path, tmp_path / "export")
    in_order = [line.rstrip("\n") for line in open(tmp_path / "export" / "kg.nt", encoding="utf-8")]
    expected = set(in_order)
    lines = spark_lines(spark_out)
    assert lines == expected
    assert spark_lines_in_order(spark_out) == in_order  # sorted across the parts as kg.nt is, no line twice
    assert not any("not in the manifest" in line for line in lines)  # the stray file the manifest omits
    for old, new in merged_entities().items():
        assert not any(f"/{old.rsplit('/', 1)[-1]}>" in line for line in lines)
        assert any(f"/{new.rsplit('/', 1)[-1]}>" in line for line in lines)
    graph = load(store_path).graph
    nodes = pq.read_table(spark_out / "nodes").to_pylist()
    assert [row["id"] for row in nodes] == sorted(graph.nodes)
    assert {row.pop("id"): {k: v for k, v in row.items() if v is not None} for row in nodes} == dict(graph.nodes)
    edges = pq.read_table(spark_out / "edges").to_pylist()
    assert len(edges) == graph.number_of_edges()
    assert {(e["source"], e["target"], e["relation"]) for e in edges} == set(graph.edges(keys=True))
    assert not (spark_out / "_flat").exists()
    summary = json.loads((spark_out / "summary.json").read_text())
    assert (summary["triples"], summary["nodes"], summary["edges"]) == (len(lines), len(nodes), len(edges))


def test_a_rerun_gives_the_same_files(layout, spark_out, tmp_path):
    """N-Triples parts are byte-identical; Parquet parts hold the same rows in the same order (parquet-mr
    writes its footer's list of encodings in an order that can change between JVMs, so not bytes)."""
    build_snapshot(layout, tmp_path / "again", master="local[2]")
    parts = sorted(p.relative_to(spark_out) for p in spark_out.rglob("part-*"))
    assert parts == sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("part-*"))
    assert {part.parent.name for part in parts} == {"ntriples", "nodes", "edges"}
    for part in parts:
        first, second = spark_out / part, tmp_path / "again" / part
        if part.suffix == ".parquet":
            assert pq.read_table(first).equals(pq.read_table(second)), part
        else:
            assert first.read_bytes() == second.read_bytes(), part


def expected_neighbourhood(seeds: set[str], depth: int) -> set[str]:
    records = world_records()
    aliases = world_aliases()
    edges = [(full_id(r["id"]), aliases.get(full_id(x), full_id(x))) for r in records
             for x in r.get("referenced_works") or []]
    keep, frontier = set(seeds), set(seeds)
    for _ in range(depth):
        reached = {b for a, b in edges if a in frontier} | {a for a, b in edges if b in frontier}
        frontier, keep = reached - keep, keep | reached
    return keep & {full_id(r["id"]) for r in records}


@pytest.mark.parametrize("depth", [1, 2])
def test_feed_neighbourhood_keeps_exactly_the_expected_works(layout, tmp_path, depth):
    records = [r for r in world_records() if r.get("doi") and r.get("referenced_works")][:3]
    feed = tmp_path / "feed.txt"
    feed.write_text("# three works of the synthetic world, by DOI and by OpenAlex id, and a title\n"
                    f"{records[0]['doi']}\n{records[1]['doi']}\n{records[2]['id'].rsplit('/', 1)[-1]}\n"
                    "A Title This Job Cannot Match\n")
    result = kg("snapshot", "build", layout, "--out", tmp_path / "out", "--master", "local[2]",
                "--feed", feed, "--depth", depth)
    assert result.returncode == 0, result.stderr
    assert "works read and transformed" in result.stderr and "N-Triples written" in result.stderr
    assert "1 of 4 feed papers have only a title and are skipped" in result.stderr
    assert not (tmp_path / "out" / "_flat").exists()
    nodes = pd.read_parquet(tmp_path / "out" / "nodes")
    kept = set(nodes.id[nodes.hydrated.fillna(False)])
    assert kept == expected_neighbourhood({full_id(r["id"]) for r in records}, depth)
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["works"] == len(kept)


def test_a_memory_size_spark_cannot_read_is_refused(layout, tmp_path):
    result = kg("snapshot", "build", layout, "--out", tmp_path / "out", "--memory", "lots")
    assert result.returncode == 2 and "'lots' is not a size" in result.stderr and "Traceback" not in result.stderr


def test_an_output_path_that_is_a_file_is_refused(layout, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    result = kg("snapshot", "build", layout, "--out", tmp_path / "taken")
    assert result.returncode == 2 and "is a file: give a folder" in result.stderr and "Traceback" not in result.stderr


def test_not_a_snapshot_folder_says_so(tmp_path):
    result = kg("snapshot", "build", tmp_path, "--out", tmp_path / "out")
    assert result.returncode == 2 and "OpenAlex snapshot folder" in result.stderr and "Traceback" not in result.stderr


def test_a_feed_of_titles_only_is_refused_before_spark_starts(layout, tmp_path):
    feed = tmp_path / "titles.txt"
    feed.write_text("Attention Is All You Need\n")
    result = kg("snapshot", "build", layout, "--out", tmp_path / "out", "--feed", feed)
    assert result.returncode == 2 and "kg enrich --snapshot" in result.stderr and "Traceback" not in result.stderr


def test_a_feed_with_nothing_in_the_snapshot_says_so(layout, tmp_path):
    feed = tmp_path / "elsewhere.txt"
    feed.write_text("10.9999/not-in-this-snapshot\n")
    result = kg("snapshot", "build", layout, "--out", tmp_path / "out", "--master", "local[2]", "--feed", feed)
    assert result.returncode == 2, result.stderr
    assert "none of the feed's papers (1) is in the snapshot" in result.stderr and "Traceback" not in result.stderr


def test_a_part_file_cut_short_is_caught_by_the_manifest(tmp_path):
    part = tmp_path / "data" / "works" / "updated_date=2026-08-11" / "part_000.gz"
    part.parent.mkdir(parents=True)
    with gzip.open(part, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in world_records()[:50])
    entry = {"url": "s3://openalex/data/works/updated_date=2026-08-11/part_000.gz",
             "meta": {"content_length": part.stat().st_size}}
    (part.parent.parent / "manifest").write_text(json.dumps({"entries": [entry]}))
    part.write_bytes(part.read_bytes()[:-100])
    result = kg("snapshot", "build", tmp_path, "--out", tmp_path / "out")
    assert result.returncode == 2 and "differ in size" in result.stderr and "part_000.gz" in result.stderr
    assert "Traceback" not in result.stderr


def with_a_broken_line(good: bytes) -> bytes:
    return gzip.compress(good + b'{"id": "https://openalex.org/W5", "title": "cut \n')


def cut_short(good: bytes) -> bytes:
    packed = gzip.compress(good)
    return packed[:len(packed) // 2]


BROKEN_CONTENT = {"not a work record": (with_a_broken_line, "not an OpenAlex work record in file:"),
                  "cut-short gzip": (cut_short, "ends early (cut-short gzip)")}


@pytest.mark.parametrize("case", sorted(BROKEN_CONTENT))
def test_broken_snapshot_content_is_named_in_one_line(tmp_path, case):
    """No manifest to check sizes against: the problem surfaces inside Spark and still ends as one line."""
    make, message = BROKEN_CONTENT[case]
    part = tmp_path / "data" / "works" / "updated_date=2026-08-11" / "part_000.gz"
    part.parent.mkdir(parents=True)
    part.write_bytes(make("".join(json.dumps(r) + "\n" for r in world_records()[:300]).encode()))
    result = kg("snapshot", "build", tmp_path, "--out", tmp_path / "out", "--master", "local[1]")
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("kg: error: ") and message in last and "part_000.gz" in last, last
    assert "Traceback" not in result.stderr and "Py4J" not in result.stderr, result.stderr
