"""The sources over real HTTP: the OpenAlex client and the Hugging Face client against their local imitations,
and the local snapshot source."""

import copy
import gzip
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import HF_WORLD, REAL, WORLD
from hfserver import HuggingFaceServer, Window, read_items
from kg.errors import BudgetExhausted, SourceError
from kg.ids import arxiv_ids_of
from kg.sources.huggingface import HuggingFace
from kg.sources.local import Snapshot
from kg.sources.openalex import OpenAlexAPI, default_rate
from oaserver import Faults, Plan


def api_for(server, **kwargs):
    kwargs.setdefault("rate", math.inf)
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("timeout", 1)
    return OpenAlexAPI(server.url, **kwargs)


def real_ids():
    with gzip.open(REAL / "works.jsonl.gz", "rt") as handle:
        return [json.loads(line)["id"] for line in handle]


def truth_ids(n):
    rows = [json.loads(line) for line in (WORLD / "truth.jsonl").read_text().splitlines()]
    return [r["work_ids"][0] for r in rows if r["work_ids"]][:n]


# -- OpenAlex ----------------------------------------------------------------------------------

def test_every_real_record_loads_through_the_snapshot():
    snapshot = Snapshot(REAL)
    assert len(snapshot.works) == 1534
    assert all(w["id"].startswith("https://openalex.org/W") for w in snapshot.works.values())


def test_every_real_record_loads_through_the_server_100_ids_a_call(real_server):
    real_server.reset(plan=Plan(throttle=False))
    api = api_for(real_server)
    ids = real_ids()
    fetched = {r["id"]: r for start in range(0, len(ids), 100) for r in api.works_by_ids(ids[start:start + 100])}
    assert len(fetched) == 1534
    assert real_server.log.counts["list"] == 16 and api.stats.counts["list"] == 16
    assert real_server.log.spent_credits == 16 and api.stats.spent_usd == pytest.approx(0.0016)


def test_merged_and_unknown_ids_answer_404_for_free(server):
    merged = json.loads((WORLD / "merged.jsonl").read_text().splitlines()[0])
    api = api_for(server)
    assert api.single_work(merged["old"]) is None
    assert api.single_work("W1") is None
    assert api.works_by_ids([merged["old"]]) == []
    assert api.stats.counts["singleton"] == 2 and server.log.credits["anonymous"] == 1


def test_select_and_cursor_paging_of_citing_works(server):
    api = api_for(server)
    target = next(k for k, v in server.world.citers.items() if len(v) > 250)
    records = api.citing_works([target], 260, select=["id", "referenced_works"])
    assert len(records) == 260 and len({r["id"] for r in records}) == 260
    assert all(set(r) <= {"id", "referenced_works"} for r in records)
    assert all(any(ref.endswith(target) for ref in r["referenced_works"]) for r in records)
    assert api.stats.counts["list"] == 2  # 200 a page


def test_long_filters_are_split_below_the_request_line_limit(server):
    dois = [f"10.5555/{'x' * 120}.{i}" for i in range(100)]
    api = api_for(server)
    assert api.works_by_dois(dois) == []
    lines = [line for line in server.log.lines if "filter=doi" in line]
    assert len(lines) >= 2 and all(len(line) < 8000 for line in lines)
    assert server.log.counts["list"] == len(lines)


def test_the_key_travels_as_a_bearer_header_and_never_reaches_urls_or_the_cache(tmp_path, server):
    server.reset(plan=Plan(keys={"s3cret-key": 10_000}, require_key=True))
    api = api_for(server, api_key="s3cret-key", cache_path=tmp_path / "cache.sqlite")
    first = api.works_by_ids(["W6483222203"])
    again = api.works_by_ids(["W6483222203"])
    assert first == again and api.stats.counts["list"] == 1 and api.stats.cache_hits == 1
    assert server.log.credits["s3cret-key"] == 1 and not any("s3cret" in line for line in server.log.lines)
    api.close()
    for path in tmp_path.iterdir():
        assert b"s3cret-key" not in path.read_bytes()


def test_a_bad_key_gives_a_clear_message(server):
    server.reset(plan=Plan(keys={"good": 10_000}))
    with pytest.raises(SourceError, match="rejected the API key"):
        api_for(server, api_key="bad").works_by_ids(["W6483222203"])


def test_error_bodies_become_messages_and_400s_are_charged(server):
    api = api_for(server)
    with pytest.raises(SourceError, match="not a valid field"):
        api._results(f"{server.url}/works?filter=DOESNTEXIST:1", "list")
    assert server.log.credits["anonymous"] == 1 and api.stats.spent_usd == pytest.approx(0.0001)
    with pytest.raises(SourceError, match="HTML error page"):
        api._results(f"{server.url}/works/doi:10.9999/none", "singleton")


def test_transient_faults_are_retried(server):
    server.reset(Faults(fault_rate=0.5, seed=3, timeout_seconds=1.5))
    api = api_for(server, retries=12)
    results = [api.works_by_ids([i]) for i in truth_ids(20)]
    assert all(len(r) == 1 for r in results)
    assert api.stats.retries > 0 and sum(server.log.faults.values()) == api.stats.retries


def test_a_per_second_throttle_slows_the_client_down_but_never_stops_it(server):
    """The 429 of the per-second limit (Retry-After 1, X-RateLimit-Remaining 0) is a wait, not a spent budget."""
    api = api_for(server)
    ids = truth_ids(60)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: api.works_by_ids([i]), ids))
    assert all(len(r) == 1 for r in results)
    assert server.log.throttled > 0 and api.stats.throttled == server.log.throttled
    assert api.limiter.rate < math.inf
    assert api.stats.counts["list"] == 60 == server.log.counts["list"]


def test_the_plan_sets_the_default_pace():
    assert default_rate(None) == 10 and default_rate("key") == 30


def test_a_spent_budget_stops_with_when_it_resets(server):
    server.reset(plan=Plan(keyless_credits=15, throttle=False))
    api = api_for(server)
    api.search_titles("linear transformers")
    with pytest.raises(BudgetExhausted, match=r"budget is spent \(\$0.0005 left\); it resets at .* UTC \(in "):
        api.search_titles("delta rule")
    assert server.log.budget_refusals == 1 and api.stats.counts["search"] == 1


def test_spending_is_read_from_the_answers_not_from_a_price_table(server, monkeypatch):
    """Prices changed during 2026: when a search costs 1 credit (as in March), kg counts 1 credit."""
    import oaserver
    real = oaserver.classify
    monkeypatch.setattr(oaserver, "classify", lambda path, params: ("search", 1) if "search.title" in params
                        else real(path, params))
    api = api_for(server)
    for text in ("linear transformers", "delta rule", "state space models"):
        api.search_titles(text)
    assert server.log.spent_credits == 3
    assert api.stats.spent_usd == pytest.approx(0.0003) and api.stats.prices["search"] == pytest.approx(0.0001)


def test_the_budget_flag_reserves_before_sending_so_workers_cannot_overshoot(server):
    server.reset(Faults(latency=0.05), Plan(throttle=False))
    api = api_for(server, budget_usd=0.0035)

    def search(text):
        try:
            return api.search_titles(text)
        except BudgetExhausted:
            return None

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(search, [f"topic {i}" for i in range(20)]))
    assert sum(a is not None for a in answers) == 3
    assert server.log.spent_credits == 30 and api.stats.spent_usd <= 0.0035


def test_autocomplete_and_the_title_search(server):
    api = api_for(server)
    title = "Parallelizing Linear Transformers with the Delta Rule over Sequence Length"
    hits = api.autocomplete("parallelizing linear transformers")
    assert hits and any(h["display_name"] == title for h in hits) and set(hits[0]) >= {"id", "display_name", "hint"}
    found = api.search_titles(title)
    assert found[0]["title"] == title and "authorships" in found[0] and len(found) <= 5
    assert server.log.counts == {"autocomplete": 1, "search": 1} and server.log.spent_credits == 10
    assert any("search.title=" in line and "select=" in line for line in server.log.lines)


def test_rate_limit_tells_the_day_and_needs_a_key(server):
    server.reset(plan=Plan(keys={"k1": 10_000}, throttle=False))
    api = api_for(server, api_key="k1")
    api.search_titles("linear")
    limits = api.rate_limit()
    assert limits["daily_budget_usd"] == 1 and limits["daily_used_usd"] == pytest.approx(0.001)
    assert limits["resets_at"].endswith("Z")
    with pytest.raises(SourceError, match="keyless use gets 1,000 credits"):
        api_for(server).rate_limit()


def test_snapshot_layout_with_merged_ids(tmp_path):
    """The real snapshot layout: works under updated_date partitions, merged ids as gzip CSV."""
    part = tmp_path / "data" / "works" / "updated_date=2026-08-11" / "part_000.gz"
    part.parent.mkdir(parents=True)
    with gzip.open(part, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "https://openalex.org/W20", "title": "The surviving work"}) + "\n")
    merged = tmp_path / "data" / "merged_ids" / "works" / "2026-08-11.csv.gz"
    merged.parent.mkdir(parents=True)
    with gzip.open(merged, "wt", newline="") as handle:
        handle.write("merge_date,id,merge_into_id\n2026-08-11,W10,W20\n")
    snapshot = Snapshot(tmp_path)
    assert snapshot.merged_into(["W10", "W20"]) == {"https://openalex.org/W10": "https://openalex.org/W20"}
    assert snapshot.single_work("W20")["title"] == "The surviving work"
    assert snapshot.single_work("W10") is None


def test_arxiv_ids_found_in_real_records():
    import csv
    rows = list(csv.DictReader((REAL / "arxiv_map.csv").open()))
    works = Snapshot(REAL).works
    for row in rows:
        assert row["arxiv_id"].lower() in arxiv_ids_of(works[row["openalex_id"]]), row


def test_requests_that_time_out_are_still_counted_as_spent(server):
    """The server got them and may have billed them, so the client's spending counts them."""
    server.reset(Faults(latency=0.6), Plan(throttle=False))
    api = api_for(server, retries=1, timeout=0.3)
    with pytest.raises(SourceError, match="ReadTimeout"):
        api.works_by_ids(["W1"])
    assert api.stats.counts["list"] == 2 and api.stats.spent_usd == pytest.approx(0.0002)
    time.sleep(1)
    assert server.log.counts["list"] == 2


# -- Hugging Face --------------------------------------------------------------------------------

def items_on(day, n):
    """n synthetic Hugging Face items listed on one day (copies of the hf-world items with new ids)."""
    base = read_items([HF_WORLD])
    items = []
    for i in range(n):
        item = copy.deepcopy(base[i % len(base)])
        item["paper"]["id"] = f"2412.{10000 + i}"
        item["paper"]["submittedOnDailyAt"] = f"{day}T00:00:00.000Z"
        items.append(item)
    return items


def test_daily_papers_are_read_page_by_page():
    """kg sends no `limit`: the service's default page (50) is read until a page comes back shorter."""
    with HuggingFaceServer(items_on("2024-12-10", 120) + items_on("2024-12-11", 3)) as server:
        client = HuggingFace(server.url)
        items = client.daily_papers("2024-12-10")
        assert len(items) == 120 and len({i["paper"]["id"] for i in items}) == 120
        assert server.log.counts["daily_papers"] == 3  # 50, 50, then 20
        assert not any("limit=" in line for line in server.log.lines)
        assert HuggingFace(server.url).daily_papers("2024-12-12") == []


@pytest.mark.parametrize("page_size", [1, 7, 20, 50, 100, 120, 200])
@pytest.mark.parametrize("refuse_over_max", [False, True])
def test_every_page_size_the_service_allows_gives_the_whole_day(page_size, refuse_over_max):
    """Whatever page size the service uses or allows, and whether it caps or refuses a larger `limit`, the
    120-item day comes whole and in the service's order."""
    day = items_on("2024-12-10", 120)
    with HuggingFaceServer(day, max_limit=page_size, refuse_over_max=refuse_over_max) as server:
        items = HuggingFace(server.url).daily_papers("2024-12-10")
    assert [i["paper"]["id"] for i in items] == [i["paper"]["id"] for i in day]


def test_the_endpoint_form_of_the_address_works_too():
    """huggingface_hub's endpoint (`https://huggingface.co`, HF_ENDPOINT) and the API root name one service."""
    with HuggingFaceServer(items_on("2024-12-10", 3)) as server:
        assert len(HuggingFace(server.url.removesuffix("/api")).daily_papers("2024-12-10")) == 3
        assert len(HuggingFace(server.url + "/").daily_papers("2024-12-10")) == 3


def test_a_cut_answer_is_retried_not_served_again_from_the_cache(tmp_path):
    """A 200 whose JSON is cut must not stay in the HTTP cache: the retry, and the next run, ask again."""
    with HuggingFaceServer(items_on("2024-12-10", 3), cut_answers=1) as server:
        client = HuggingFace(server.url, cache_path=tmp_path / "hf-cache.sqlite", backoff=0.01)
        assert len(client.daily_papers("2024-12-10")) == 3
        assert client.stats.retries == 1 and server.log.counts["daily_papers"] == 2
        client.close()
        again = HuggingFace(server.url, cache_path=tmp_path / "hf-cache.sqlite")
        assert len(again.daily_papers("2024-12-10")) == 3
        assert again.stats.cache_hits == 2 and server.log.counts["daily_papers"] == 2  # both pages from the cache


def test_a_refused_request_is_named_with_the_services_error():
    with HuggingFaceServer(items_on("2024-12-10", 3)) as server:
        with pytest.raises(SourceError, match=r"refused the request \(HTTP 400: Invalid date: 2024-13-40\)"):
            HuggingFace(server.url).daily_papers("2024-13-40")


def test_a_wrong_address_is_named_not_read_as_an_empty_day():
    with HuggingFaceServer(items_on("2024-12-10", 3)) as server:
        with pytest.raises(SourceError, match="HTTP 404.*--hf-url"):
            HuggingFace(server.url + "/v2").daily_papers("2024-12-10")


def test_hugging_face_429_waits_as_its_ratelimit_header_says():
    with HuggingFaceServer(read_items([HF_WORLD]), Window(calls=3, seconds=1.0)) as server:
        client = HuggingFace(server.url)
        started = time.monotonic()
        answers = [client.search("linear transformers delta rule") for _ in range(5)]
        assert all(answers) and server.log.throttled >= 1 and client.stats.throttled >= 1
        assert time.monotonic() - started >= 0.9


def test_hugging_face_token_is_sent_as_bearer(monkeypatch):
    with HuggingFaceServer(read_items([HF_WORLD]), Window(calls=1, seconds=60, token_calls=5)) as server:
        client = HuggingFace(server.url, token="hf_secret")
        assert all(client.search("treemap") for _ in range(4))
        assert server.log.throttled == 0


def test_hugging_face_unreachable_is_one_clear_error():
    client = HuggingFace("http://127.0.0.1:9/api", retries=1, backoff=0.01, timeout=0.5)
    with pytest.raises(SourceError, match="Hugging Face did not answer"):
        client.search("anything")


@pytest.mark.parametrize(("filter_key", "values"), [
    ("cites", ["W6301767674", "W6483222203"]), ("authorships.author.id", ["A6801265385", "A6389224675"]),
    ("topics.id", ["T29187"]), ("title_and_abstract.search", ["linear attention"])])
def test_works_since_pages_through_a_window_and_agrees_with_the_snapshot(server, filter_key, values):
    server.reset(plan=Plan(throttle=False))
    api = api_for(server)
    since = "2026-06-01"
    found = api.works_since(filter_key, values, since)
    assert found and all(r["publication_date"] >= since for r in found)
    assert len({r["id"] for r in found}) == len(found)
    lines = [line for line in server.log.lines if "from_publication_date" in line]
    assert all(f"from_publication_date:{since}" in line and "cursor=" in line for line in lines)
    if filter_key != "title_and_abstract.search":  # the imitation's relevance search is not the snapshot's
        assert sorted(r["id"] for r in found) == sorted(r["id"] for r in Snapshot(WORLD).works_since(
            filter_key, values, since))


def test_a_plan_gated_filter_is_named_not_waited_out(server):
    """Created- and updated-date filters need a Premium plan: the live proxy answers 429 "Plan upgrade
    required" (index.ts, checkProtectedParams), which is neither a throttle nor a spent budget."""
    server.reset(plan=Plan(throttle=False))
    api = api_for(server)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"refused the request for this plan \(The \"from_created_date:2026-12-01\" "
                                          r"filter requires a Premium"):
        api._get(api._url("/works", filter="from_created_date:2026-12-01"), "list")  # the transport itself
    assert time.monotonic() - started < 2 and server.log.spent_credits == 0
