"""Reference managers' files as feeds: BibTeX, RIS and CSL-JSON, as Zotero, Mendeley and JabRef export them."""

import json

from conftest import HF_API
from kg.feeds import READERS, read_inputs, read_text

BIBTEX = r"""% exported by JabRef
@article{yang2024delta,
  title   = {Parallelizing Linear Transformers with the {Delta} Rule over Sequence Length},
  author  = {Yang, Songlin and Wang, Bailin and Zhang, Yu and Shen, Yikang and Kim, Yoon},
  year    = {2024},
  eprint  = {2406.06484},
  archivePrefix = {arXiv},
}

@inproceedings{muller2023,
  title = {Caf\'{e} \& M{\"u}ller: a $\ell_\infty$ study},
  author = {M{\"u}ller, Hans},
  booktitle = {Proc. X},
  year = 2023,
  doi = {10.1145/3580305.3599256},
}

@misc{onlyurl, title = {Found by its link}, url = {https://arxiv.org/abs/2301.01244v2}, year = {2023}}

@misc{broken, title = {never closed
"""

RIS = "\n".join([
    "TY  - JOUR", "TI  - Deep Regression Unlearning", "AU  - Tarun, Ayush Kumar", "AU  - Chundawat, Vikram Singh",
    "PY  - 2023", "DO  - 10.48550/arXiv.2210.08196", "ER  - ", "",
    "TY  - CONF", "T1  - A title with no identifier", "AU  - Doe, Jane", "PY  - 2021///",
    "UR  - https://example.org/paper", "ER  - ", "",
    "TY  - GEN", "ER  - ", ""])

CSL = [
    {"id": "a", "type": "article-journal", "title": "Gated Delta Networks", "DOI": "10.1234/ABC.5",
     "author": [{"family": "Yang", "given": "Songlin"}, {"literal": "The Team"}], "issued": {"date-parts": [[2024, 12]]}},
    {"id": "b", "type": "article", "title": "An arXiv preprint", "URL": "https://arxiv.org/abs/2406.06484",
     "issued": {"date-parts": [[2024]]}},
    {"id": "c", "type": "article", "note": "nothing to go on"},
]


def test_bibtex_entries_become_papers_and_a_broken_block_a_notice(tmp_path):
    path = tmp_path / "library.bib"
    path.write_text(BIBTEX)
    result = read_inputs([str(path)])
    delta, cafe, linked = result.papers
    assert delta.arxiv_id == "2406.06484" and delta.author_count == 5 and delta.published == "2024"
    assert delta.title == "Parallelizing Linear Transformers with the Delta Rule over Sequence Length"
    assert cafe.doi == "10.1145/3580305.3599256" and cafe.title.startswith("Café & Müller")
    assert cafe.authors == ("Müller, Hans",)
    assert linked.arxiv_id == "2301.01244"
    assert [n.skipped for n in result.warnings] == [True] and result.warnings[0].line >= 20


def test_ris_records_become_papers(tmp_path):
    path = tmp_path / "export.ris"
    path.write_text(RIS)
    result = read_inputs([str(path)])
    unlearning, plain = result.papers
    assert unlearning.arxiv_id == "2210.08196" and unlearning.authors == ("Tarun, Ayush Kumar", "Chundawat, Vikram Singh")
    assert plain.title == "A title with no identifier" and plain.published == "2021" and not plain.doi
    assert len(result.warnings) == 1 and result.warnings[0].item == 2


def test_csl_json_items_become_papers(tmp_path):
    path = tmp_path / "zotero.json"
    path.write_text(json.dumps(CSL))
    result = read_inputs([str(path)])
    gated, preprint = result.papers
    assert gated.doi == "10.1234/abc.5" and gated.authors == ("Yang, Songlin", "The Team") and gated.published == "2024"
    assert preprint.arxiv_id == "2406.06484"
    assert result.warnings[0].item == 2 and result.warnings[0].skipped


def test_each_input_goes_to_the_reader_that_recognises_it():
    names = {r.name for r in READERS}
    assert {"arxiv-listing", "bibtex", "ris", "csl-json", "hugging-face-json", "daily-papers-page",
            "id-or-title-list"} == names
    for path in HF_API:  # Hugging Face JSON is not mistaken for CSL-JSON
        papers, _ = read_text(path.read_text(encoding="utf-8"), path.name, 2026)
        assert papers and all(p.arxiv_id for p in papers)
