"""Graphviz figures, checked by reading the SVG that `dot` really produced."""

import json
import re
import shutil
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from conftest import kg
from kg.render import FEED_COLOUR, Limits, render_all

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


@pytest.fixture(scope="module")
def figures(demo_export, tmp_path_factory):
    """The demo's figures, rendered into a copy of the shared export (which no test changes)."""
    export = tmp_path_factory.mktemp("render") / "export"
    shutil.copytree(demo_export, export)
    render_all(export)
    return export / "figures"


def nodes(svg_path):
    """Graphviz node groups: {title: (element, centre x)} read from each node's drawn shape."""
    found = {}
    for group in ET.parse(svg_path).getroot().iter(SVG + "g"):
        if "node" not in (group.get("class") or "").split():
            continue
        title = group.find(SVG + "title").text
        numbers = [float(n) for shape in group.iter() if shape.tag in (SVG + "path", SVG + "polygon", SVG + "text")
                   for n in re.findall(r"-?\d+\.?\d*", shape.get("d") or shape.get("points") or shape.get("x") or "")]
        xs = numbers[0::2] if len(numbers) > 1 else numbers
        found[title] = (group, (min(xs) + max(xs)) / 2)
    return found


def test_every_figure_is_valid_svg(figures, demo_export):
    threads = json.loads((demo_export / "threads.json").read_text())["threads"]
    names = {p.name for p in figures.glob("*.svg")}
    assert names == {f"thread-{t['id']}.svg" for t in threads} | {"coauthors.svg", "threads.svg"}
    for path in figures.glob("*.svg"):
        assert ET.parse(path).getroot().tag == SVG + "svg"


def test_thread_figure_shows_papers_links_and_year_ranks(figures, demo_export):
    thread = json.loads((demo_export / "threads.json").read_text())["threads"][0]
    works = pd.read_parquet(demo_export / "tables" / "works.parquet").set_index("id")
    path = figures / f"thread-{thread['id']}.svg"
    drawn = nodes(path)
    links = {a.get(XLINK) for a in ET.parse(path).getroot().iter(SVG + "a")}
    axis = {title.removeprefix("year-"): x for title, (_, x) in drawn.items() if title.startswith("year-")}
    years = [y for y in axis if y != "unknown"]
    assert years == sorted(years) and [axis[y] for y in years] == sorted(axis[y] for y in years)
    for paper in thread["papers"]:
        short = paper.rsplit("/", 1)[-1]
        group, x = drawn[short]
        assert paper in links
        arxiv = works.arxiv_id.get(paper)
        if isinstance(arxiv, str) and arxiv:
            assert f"https://arxiv.org/abs/{arxiv}" in links
        year = works.year.get(paper)
        assert x == pytest.approx(axis[str(int(year))], abs=1.5), (paper, year)
        assert FEED_COLOUR in ET.tostring(group, encoding="unicode")
    title = works.title[thread["papers"][0]]
    assert title.split()[0] in path.read_text()


def test_backbone_edges_are_drawn_heavy(figures, demo_export):
    thread = json.loads((demo_export / "threads.json").read_text())["threads"][0]
    svg = (figures / f"thread-{thread['id']}.svg").read_text()
    heavy = re.findall(r'<g id="edge\d+" class="edge">\s*<title>([^<]*)</title>\s*<path[^>]*stroke="#b2182b"'
                       r'[^>]*stroke-width="3"', svg)
    expected = {f"{v.rsplit('/', 1)[-1]}&#45;&gt;{u.rsplit('/', 1)[-1]}"
                for u, v in zip(thread["backbone"], thread["backbone"][1:])}
    assert expected and expected <= set(heavy)


def test_large_figures_say_what_was_left_out(demo_export, tmp_path):
    limits = Limits(papers=3, references=2, authors=10, author_links=5)
    figures = render_all(demo_export, "svg", limits)
    thread = json.loads((demo_export / "threads.json").read_text())["threads"][0]
    svg = next(p for p in figures if p.name == f"thread-{thread['id']}.svg").read_text()
    assert f"{len(thread['papers']) - 3} of the thread&#39;s {len(thread['papers'])} papers left out" in svg
    coauthors = (demo_export / "figures" / "coauthors.svg").read_text()
    assert re.search(r"\d+ of \d+ authors left out", coauthors)
    assert len([t for t in nodes(demo_export / "figures" / "coauthors.svg")]) == 10
    render_all(demo_export)


def test_coauthor_figure_groups_authors_by_institution(figures):
    root = ET.parse(figures / "coauthors.svg").getroot()
    clusters = [g for g in root.iter(SVG + "g") if g.get("class") == "cluster"]
    assert clusters
    assert all(g.find(SVG + "text") is not None for g in clusters)


def test_overview_has_a_node_per_thread(figures, demo_export):
    threads = json.loads((demo_export / "threads.json").read_text())["threads"]
    assert set(nodes(figures / "threads.svg")) == {t["id"] for t in threads}


@pytest.mark.parametrize("form, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_other_formats(demo_export, form, magic):
    result = kg("render", "--out", demo_export, "--format", form)
    assert result.returncode == 0, result.stderr
    produced = list((demo_export / "figures").glob(f"*.{form}"))
    assert len(produced) >= 3 and all(p.read_bytes().startswith(magic) for p in produced)


def test_render_without_export_says_what_to_do(tmp_path):
    result = kg("render", "--out", tmp_path)
    assert result.returncode == 2 and "run `kg build" in result.stderr and "Traceback" not in result.stderr


def test_control_characters_in_titles_still_give_valid_svg(demo_export, tmp_path):
    """Titles come from feeds and OpenAlex: NUL, ESC, \\v or \\f must not break DOT or the SVG's XML."""
    export = tmp_path / "export"
    shutil.copytree(demo_export, export)
    works = pd.read_parquet(export / "tables" / "works.parquet")
    works["title"] = works["title"].map(lambda t: f"Odd\x00 \x1b[31m title\x0b with\x0c controls {t}" if t else t)
    works.to_parquet(export / "tables" / "works.parquet")
    for path in render_all(export):
        ET.parse(path)  # raises on anything that is not XML
        assert "\x00" not in path.read_text(encoding="utf-8")
