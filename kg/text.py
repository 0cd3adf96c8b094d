"""Text normalisation shared by feed reading, matching and the local source.

Titles arrive with markup, LaTeX, HTML entities, Unicode dashes and quotes;
comparisons need one folded form so that the same title always compares equal.
"""

from __future__ import annotations

import html
import re
import unicodedata

_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text safe for every output: control characters become spaces, lone surrogates (invalid JSON escapes
    such as \\ud800) become U+FFFD."""
    return _UNWANTED.sub(lambda m: " " if m.group() < "\ud800" else "\ufffd", text)


def normalise_title(title: str) -> str:
    """Fold a title to a comparison form: markup, LaTeX, entities, case, punctuation."""
    text = html.unescape(title)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[$\\{}]", "", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\u2010-\u2015\-_]", " ", text)
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())
