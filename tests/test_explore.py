"""The report's interactive views: their data (kg.explore) and the page driven in Debian's headless Chromium
with Selenium and chromium-driver (both installed by `make test`)."""

import json

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import HOSTILE, browser
from kg.explore import citation_map, derivative_works, embedded_json, prior_works, views


@pytest.fixture(scope="module")
def page(hostile_report, tmp_path_factory):
    """The hostile demo report open in Chromium, the map drawn."""
    driver = browser(tmp_path_factory.mktemp("chromium"))
    try:
        driver.get("about:blank")
        driver.get_log("performance")  # the browser's own start-up pages are not the report's requests
        driver.get(hostile_report.as_uri())
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return window.kgMap && kgMap.state.ready"))
        yield driver
    finally:
        driver.quit()


def test_embedded_json_cannot_leave_its_script_element():
    text = embedded_json({"title": HOSTILE + " \u2028 </SCRIPT> <!--"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["title"] == HOSTILE + " \u2028 </SCRIPT> <!--"


def test_prior_and_derivative_works_count_papers_of_the_thread():
    citations = pd.DataFrame({"citing_id": ["a", "b", "b", "a", "x", "x", "y"],
                              "cited_id": ["r", "r", "s", "b", "a", "b", "a"]})
    assert prior_works(["a", "b"], citations) == [["r", 2], ["s", 1]]  # b is a member, not a prior work
    assert derivative_works(["a", "b"], citations) == [["x", 2], ["y", 1]]


def test_a_large_export_is_cut_to_the_feed_and_its_most_connected_works(demo_export):
    works, _edges, _threads, total = citation_map(demo_export, limit=60)
    feed = pd.read_parquet(demo_export / "tables" / "works.parquet").is_feed.sum()
    assert len(works) == 60 and total == 125 and sum(w["feed"] for w in works) == feed


def test_the_page_loads_offline_without_console_errors_and_holds_every_work(page, demo_export):
    requests = [json.loads(entry["message"])["message"] for entry in page.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"]
    assert urls and all(url.startswith(("file://", "data:")) for url in urls), urls
    assert [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"] == []
    works = len(pd.read_parquet(demo_export / "tables" / "works.parquet"))
    assert page.execute_script("return kgMap.nodes.length") == works
    assert page.execute_script("return kgMap.visible()") == works


def click_work(page, work_id):
    """Click a work where it is drawn: centred on the map first, so it is at the canvas' middle."""
    page.execute_script("kgMap.network.focus(arguments[0], {scale: 1.5, animation: false})", work_id)
    canvas = page.find_element(By.CSS_SELECTOR, "#kg-map canvas")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    ActionChains(page).move_to_element(canvas).click().perform()


def test_clicking_a_work_shows_its_details_and_highlights_its_references(page, demo_export):
    tables = demo_export / "tables"
    works = pd.read_parquet(tables / "works.parquet").set_index("id")
    citations = pd.read_parquet(tables / "citations.parquet")
    inside = citations[citations.cited_id.isin(works.index)]
    feed = [w for w in inside.citing_id.value_counts().index if works.is_feed.get(w)]
    work = next(w for w in feed if works.loc[w, "arxiv_id"] and works.loc[w, "title"] != HOSTILE)
    click_work(page, work)
    WebDriverWait(page, 10).until(lambda d: d.execute_script("return kgMap.state.selected") == work)
    panel = page.find_element(By.ID, "kg-panel")
    assert panel.is_displayed() and works.loc[work, "title"] in panel.text
    links = {a.text: a.get_attribute("href") for a in panel.find_elements(By.TAG_NAME, "a")}
    assert links[f"OpenAlex {work.rsplit('/', 1)[1]}"] == work
    assert links["arXiv"] == f"https://arxiv.org/abs/{works.loc[work, 'arxiv_id']}"
    assert links["Hugging Face"] == f"https://huggingface.co/papers/{works.loc[work, 'arxiv_id']}"
    expected = sorted(set(inside.cited_id[inside.citing_id == work]))
    assert sorted(page.execute_script("return kgMap.state.highlighted.references")) == expected
    lit = page.execute_script("return kgMap.lit()")
    assert lit[work] == "selected" and {w for w, kind in lit.items() if kind == "reference"} == set(expected)
    page.execute_script("kgMap.clear()")


def test_search_and_the_thread_filter_change_what_is_shown(page, demo_export):
    data = views(demo_export)
    search = page.find_element(By.ID, "kg-search")
    search.send_keys("bibliometric")
    expected = {w["id"] for w in data.works if "bibliometric" in w["title"].lower()
                or "bibliometric" in w["authors"].lower()}
    assert expected and set(page.execute_script("return kgMap.state.matches")) == expected
    assert f"{len(expected)} matching works" in page.find_element(By.ID, "kg-matches").text
    search.clear()
    search.send_keys(" ")  # fewer than two letters: nothing matched, nothing faded
    assert page.execute_script("return kgMap.state.matches") == []

    thread = data.threads[1]["id"]
    Select(page.find_element(By.ID, "kg-thread")).select_by_value(thread)
    in_lane = sum(1 for w in data.works if w["lane"] == thread)
    assert page.execute_script("return kgMap.visible()") == in_lane < len(data.works)
    Select(page.find_element(By.ID, "kg-thread")).select_by_value("")
    page.find_element(By.ID, "kg-from").send_keys("2015")
    recent = sum(1 for w in data.works if w["year"] is not None and w["year"] >= 2015)
    assert page.execute_script("return kgMap.visible()") == recent
    page.find_element(By.ID, "kg-from").clear()
    page.execute_script("document.getElementById('kg-from').dispatchEvent(new Event('input'))")
    assert page.execute_script("return kgMap.visible()") == len(data.works)


def test_a_hostile_title_is_text_everywhere_on_the_page(page):
    page.find_element(By.ID, "kg-search").clear()
    page.find_element(By.ID, "kg-search").send_keys("owned")
    [hostile] = page.execute_script("return kgMap.state.matches")
    page.execute_script("kgMap.select(arguments[0])", hostile)
    assert page.find_element(By.CSS_SELECTOR, "#kg-panel h3").text == HOSTILE
    assert page.execute_script("return document.scripts.length") == 3
    assert page.execute_script("return typeof window.alert === 'function' && !window.owned")
    assert [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_prior_works_open_on_the_map_and_the_coauthor_network_draws(page, demo_export):
    data = views(demo_export)
    link = page.find_element(By.CSS_SELECTOR, "a[data-work]")
    target = link.get_attribute("data-work")
    page.execute_script("arguments[0].click()", link)
    assert page.execute_script("return kgMap.state.selected") == target
    page.find_element(By.CSS_SELECTOR, "#kg-coauthors summary").click()
    WebDriverWait(page, 30).until(lambda d: d.execute_script("return !!kgMap.coauthors"))
    drawn = page.execute_script("return kgMap.coauthors.body.data.nodes.length")
    assert drawn == len(data.authors) > 0


def test_an_empty_project_gives_a_page_without_errors(tmp_path):
    from kg.export import build
    from kg.render import render_all
    from kg.report import write_report
    from kg.store import Store

    Store(tmp_path / "empty.sqlite").close()
    build(tmp_path / "empty.sqlite", tmp_path / "out")
    render_all(tmp_path / "out")
    driver = browser(tmp_path)
    try:
        driver.get(write_report(tmp_path / "out").as_uri())
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return window.kgMap && kgMap.state.ready"))
        assert driver.execute_script("return kgMap.nodes.length") == 0
        assert [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"] == []
    finally:
        driver.quit()
