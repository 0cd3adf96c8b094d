"""The one tree of user-facing errors.

Every problem a user can fix (a bad input, an unreachable service, a spent
budget) is a `KgError`; its message names the input and what to do. The CLI
catches `KgError` once and exits with the error's `exit_code`; anything else
is a bug and keeps its traceback. This module imports nothing, so every stage
may raise these without pulling in heavy dependencies.
"""

from __future__ import annotations

EXIT_USER_ERROR = 2
EXIT_BUDGET = 3


class KgError(Exception):
    """A problem the user can fix; the message says how."""

    exit_code = EXIT_USER_ERROR


class FeedError(KgError):
    """A feed input kg cannot read; the message names the input and the fix."""


class SourceError(KgError):
    """OpenAlex or Hugging Face answered in a way kg cannot use; the message says what to do."""


class BudgetExhausted(SourceError):
    """OpenAlex's daily budget or kg's --budget is spent: stop cleanly, keep everything, rerun later."""

    exit_code = EXIT_BUDGET


class QueryError(KgError):
    """A SPARQL query, parameter or endpoint problem."""


class RenderError(KgError):
    """Figures cannot be drawn (no export, Graphviz missing or failing)."""


class ReportError(KgError):
    """The report cannot be written (no export to report on)."""


class SnapshotError(KgError):
    """The OpenAlex snapshot or the Spark job cannot be used as asked."""


class BuildError(KgError):
    """`kg build` cannot finish as asked (its memory limit is too small for the graph)."""
