"""Where enrichment gets its records: one protocol, several sources.

* `openalex.OpenAlexAPI`: the live OpenAlex API over HTTP (or a compatible server);
* `local.Snapshot`: OpenAlex records from local JSON Lines or the OpenAlex snapshot;
* `huggingface.HuggingFace`: Hugging Face's papers API, a `PaperIndex` that names a title's arXiv id.

A new source implements `Source` (or `PaperIndex`) in one new module; enrichment only ever
speaks to the protocol, so it never knows which source it is using.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kg.sources.http import Ledger

DEFAULT_URL = "https://api.openalex.org"
HF_API_URL = "https://huggingface.co/api"


class Source(Protocol):
    """What enrichment needs from OpenAlex (the API client and the local snapshot both provide it)."""

    name: str
    stats: Ledger

    def works_by_ids(self, ids: list[str], select: list[str] | None = None) -> list[dict]: ...
    def works_by_dois(self, dois: list[str]) -> list[dict]: ...
    def works_by_arxiv(self, arxiv_ids: list[str], forms: str = "common") -> list[dict]: ...
    def work_by_doi(self, doi: str) -> dict | None: ...
    def autocomplete(self, text: str) -> list[dict]: ...
    def search_titles(self, text: str, per_page: int = 5) -> list[dict]: ...
    def single_work(self, work_id: str, select: list[str] | None = None) -> dict | None: ...
    def citing_works(self, work_ids: list[str], per_work: int, select: list[str] | None = None) -> list[dict]: ...
    def merged_into(self, ids: list[str]) -> dict[str, str]: ...
    def close(self) -> None: ...


class PaperIndex(Protocol):
    """A service that knows papers' arXiv ids by title (Hugging Face)."""

    def search(self, text: str, limit: int = 5) -> list[dict]: ...
