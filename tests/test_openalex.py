import csv
import gzip
import json
import time

import pytest
import requests

from conftest import REAL, WORLD
from kg.openalex import BudgetExhausted, OpenAlexAPI, OpenAlexError, Snapshot, arxiv_ids_of, full_id
from oaserver import Faults


def api_for(server, **kwargs):
    kwargs.setdefault("rate", 1000)
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("timeout", 1)
    return OpenAlexAPI(server.url, **kwargs)


def real_ids():
    with gzip.open(REAL / "works.jsonl.gz", "rt") as handle:
        return [json.loads(line)["id"] for line in handle]


def test_every_real_record_loads_through_the_snapshot():
    snapshot = Snapshot(REAL)
    assert len(snapshot.works) == 1534
    assert all(w["id"].startswith("https://openalex.org/W") for w in snapshot.works.values())


def test_every_real_record_loads_through_the_server(real_server):
    real_server.reset()
    api = api_for(real_server)
    ids = real_ids()
    fetched = {}
    for start in range(0, len(ids), 100):
        for record in api.works_by_ids(ids[start:start + 100]):
            fetched[record["id"]] = record
    assert len(fetched) == 1534
    assert real_server.log.counts["list"] == 16 and api.stats.counts["list"] == 16


def test_single_lookup_follows_merges_and_unknown_ids(server):
    merged = json.loads((WORLD / "merged.jsonl").read_text().splitlines()[0])
    api = api_for(server)
    assert api.single_work(merged["old"]) == full_id(merged["new"])
    assert api.single_work("W1") is None
    assert api.stats.counts["single"] == 2 and api.stats.credits_usd == 0


def test_select_and_cursor_paging_of_citing_works(server):
    api = api_for(server)
    target = next(k for k, v in server.world.citers.items() if len(v) > 120)
    records = api.citing_works(target, 150, select=["id", "referenced_works"])
    assert len(records) == 150 and len({r["id"] for r in records}) == 150
    assert all(set(r) <= {"id", "referenced_works"} for r in records)
    assert all(any(ref.endswith(target) for ref in r["referenced_works"]) for r in records)
    assert api.stats.counts["list"] == 2


def test_http_cache_keys_never_hold_the_api_key(tmp_path, server):
    server.faults = Faults(require_key="s3cret-key")
    api = api_for(server, api_key="s3cret-key", cache_path=tmp_path / "cache.sqlite")
    first = api.works_by_ids(["W6483222203"])
    again = api.works_by_ids(["W6483222203"])
    assert first == again and api.stats.counts["list"] == 1 and api.stats.cache_hits == 1
    api.close()
    for path in tmp_path.iterdir():
        assert b"s3cret-key" not in path.read_bytes()


def test_missing_key_gives_a_clear_message(server):
    server.faults = Faults(require_key="needed")
    with pytest.raises(OpenAlexError, match="API key missing or invalid"):
        api_for(server).works_by_ids(["W6483222203"])


def test_non_json_and_json_error_bodies_become_messages(server):
    api = api_for(server)
    with pytest.raises(OpenAlexError, match="not a valid field"):
        api._json(api._get(f"{server.url}/works?filter=DOESNTEXIST:1", "list"), "url")
    response = api._get(f"{server.url}/works/doi:10.9999/none", "single")
    assert response.status_code == 404
    with pytest.raises(OpenAlexError, match="HTML error page"):
        api._json(response, "url")


def test_transient_faults_are_retried(server):
    server.faults = Faults(fault_rate=0.5, seed=3, timeout_seconds=1.5)
    api = api_for(server, retries=12)
    ids = [json.loads(l)["work_ids"][0] for l in (WORLD / "truth.jsonl").read_text().splitlines()
           if json.loads(l)["work_ids"]][:20]
    results = [api.works_by_ids([i]) for i in ids]
    assert all(len(r) == 1 for r in results)
    assert api.stats.retries > 0 and sum(server.log.faults.values()) == api.stats.retries


def test_spent_daily_budget_raises(server):
    server.faults = Faults(daily_budget_usd=0.0015)
    api = api_for(server)
    api.search_works("linear transformers")
    with pytest.raises(BudgetExhausted):
        api.search_works("delta rule")


def test_client_side_budget_stops_before_spending(server):
    api = api_for(server, budget_usd=0.0025)
    api.search_works("a")
    api.search_works("b")
    with pytest.raises(BudgetExhausted, match="--budget"):
        api.search_works("c")
    assert server.log.counts["search"] == 2


def test_arxiv_ids_found_in_real_records():
    rows = list(csv.DictReader((REAL / "arxiv_map.csv").open()))
    works = Snapshot(REAL).works
    for row in rows:
        assert row["arxiv_id"].lower() in arxiv_ids_of(works[row["openalex_id"]]), row


def test_snapshot_layout_with_merged_ids_answers_like_the_api(tmp_path):
    """The real snapshot layout: works under updated_date partitions, merged ids as gzip CSV (a merged id
    answers with the surviving id, as the API's 301 does)."""
    part = tmp_path / "data" / "works" / "updated_date=2026-08-11" / "part_000.gz"
    part.parent.mkdir(parents=True)
    with gzip.open(part, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "https://openalex.org/W20", "title": "The surviving work"}) + "\n")
    merged = tmp_path / "data" / "merged_ids" / "works" / "2026-08-11.csv.gz"
    merged.parent.mkdir(parents=True)
    with gzip.open(merged, "wt", newline="") as handle:
        handle.write("merge_date,id,merge_into_id\n2026-08-11,W10,W20\n")
    snapshot = Snapshot(tmp_path)
    assert snapshot.single_work("W10") == "https://openalex.org/W20"
    assert snapshot.single_work("W20")["title"] == "The surviving work"


def test_user_agent_and_connection_reuse(server):
    api = api_for(server)
    api.works_by_ids(["W6483222203"])
    assert api.session.headers["User-Agent"].startswith("kg/")
    assert isinstance(api.session, requests.Session)


def test_requests_that_time_out_are_still_counted_as_spent(server):
    """The server got them and may have billed them, so the client's spending counts them."""
    server.faults = Faults(latency=0.6)
    api = api_for(server, retries=1, timeout=0.3)
    with pytest.raises(OpenAlexError, match="ReadTimeout"):
        api.works_by_ids(["W1"])
    assert api.stats.counts["list"] == 2
    time.sleep(1)
    assert server.log.counts["list"] == 2
