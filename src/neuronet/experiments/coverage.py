"""Every statement of the lecture, and where the report tests it (or why it does not).

``STATEMENTS`` follows the lecture (``shared/lecture``) from top to bottom.  A statement is either
tested, by an experiment and the names of the checks in its result that decide it, or not
tested, with the reason.  ``tests/test_lecture.py`` checks that every named experiment and check
exists in a real lecture run, and the report prints this table with each verdict.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement of the lecture.

    ``text``: the statement, close to the lecture's words.  ``part``: "neurobiology" or
    "variations".  ``experiment``/``checks``: where it is tested; a check is named exactly, or
    by a prefix ending in ``*``.  ``untested``: why it is not tested (then ``experiment`` is None).
    """

    text: str
    part: str
    experiment: str | None = None
    checks: tuple[str, ...] = ()
    untested: str = ""

    def __post_init__(self):
        if (self.experiment is None) == (not self.untested):
            raise ValueError(f"{self.text!r}: give an experiment and checks, or the reason it is untested")


def _t(text, experiment, *checks, part="variations"):
    return Statement(text, part, experiment, tuple(checks))


def _u(text, reason, part="variations"):
    return Statement(text, part, untested=reason)


#: Filled in as the experiments' checks are named; see the module docstring.
STATEMENTS: tuple[Statement, ...] = ()


def matches(pattern: str, name: str) -> bool:
    """Whether check ``name`` is what ``pattern`` names (exactly, or by a prefix ending in ``*``)."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
