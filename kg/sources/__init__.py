"""Where enrichment gets its records: one protocol, several sources.

* `openalex.OpenAlexAPI`: the live OpenAlex API over HTTP (or a compatible server);
* `local.Snapshot`: OpenAlex records from local JSON Lines or the OpenAlex snapshot;
* `huggingface.HuggingFace`: Hugging Face's papers API, a `PaperIndex` that names a title's arXiv id.

A new source implements `Source` (or `PaperIndex`) in one new module; enrichment only ever
speaks to the protocol, so it never knows which source it is using.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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
    def works_by_landing_pages(self, urls: list[str]) -> list[dict]: ...
    def work_by_doi(self, doi: str) -> dict | None: ...
    def autocomplete(self, text: str) -> list[dict]: ...
    def search_titles(self, text: str, per_page: int = 5) -> list[dict]: ...
    def single_work(self, work_id: str, select: list[str] | None = None) -> dict | None: ...
    def citing_works(self, work_ids: list[str], per_work: int, select: list[str] | None = None) -> list[dict]: ...
    def works_since(self, filter_key: str, values: list[str], since: str) -> list[dict]: ...
    def merged_into(self, ids: list[str]) -> dict[str, str]: ...
    def close(self) -> None: ...


class PaperIndex(Protocol):
    """A service that knows papers' arXiv ids by title (Hugging Face)."""

    stats: Ledger

    def search(self, text: str, limit: int = 5) -> list[dict]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceOptions:
    """Where enrichment gets its records: a local snapshot, or the OpenAlex API with Hugging Face beside it."""

    snapshot: Path | None = None
    openalex_url: str = DEFAULT_URL
    api_key: str | None = None
    rate: float | None = None
    """OpenAlex requests per second at most; None: the plan's (10 keyless, 30 with a key)."""
    budget_usd: float | None = None
    hf_url: str = HF_API_URL
    hf_token: str | None = None
    use_hf: bool = True
    """Ask Hugging Face for the arXiv ids of titles (never with a snapshot: that is the offline mode)."""
    cache_folder: Path | None = None
    """Where the HTTP caches live (None: no cache)."""


def open_sources(options: SourceOptions) -> tuple[Source, PaperIndex | None]:
    """The OpenAlex source and, when asked, the Hugging Face index the options describe."""
    if options.snapshot is not None:
        from kg.sources.local import Snapshot

        return Snapshot(options.snapshot), None
    from kg.sources.huggingface import HuggingFace
    from kg.sources.openalex import OpenAlexAPI

    folder = options.cache_folder
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    source = OpenAlexAPI(options.openalex_url, options.api_key, rate=options.rate, budget_usd=options.budget_usd,
                         cache_path=folder / "kg-http-cache.sqlite" if folder else None)
    index = HuggingFace(options.hf_url, options.hf_token, cache_path=folder / "kg-hf-cache.sqlite" if folder else None) \
        if options.use_hf else None
    return source, index
