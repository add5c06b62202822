"""Finding a child by name, LA child ID or UPN: the keys a search scans are made once per data version (kept
with the figures), so a search is a scan of one short text column a word typed and a list of at most 20, not
a list of every child drawn on every rerun (30,000 labels at one authority, 300,000 in a partnership).

A search is the words typed, in any order ("smith jo" finds Jo Smith): each word must be the start of a word
of the child's name, or the start of their LA child ID or UPN. Case and accents do not count ("zoe" finds
Zoë), hyphens part names into words ("jones" finds Smith-Jones) and other punctuation is dropped ("obrien"
and "o'brien" both find O'Brien; "j." finds the initial "J." a pseudonymised list shows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from vsdash.glossary import counted

LIMIT = 20  # a list read at a glance; more matches than this ask for another word, not a longer list
FOUND = "found_"  # the key of each found child's button, before their LA child ID
MARKDOWN = re.compile(r"([\\`*_\[\]<>|~$])")  # what a Streamlit label would read as inline markdown
KEY = "search_key"  # " jo smith jones c1001 k123456789012": each word of the name, then each identifier, after a space


def name_words(text: pl.Expr) -> pl.Expr:
    """Names as a search compares them: lower case, accents and punctuation gone, hyphens and runs of spaces
    as one space, so what is typed and what is stored meet whatever keyboard or feed they came from."""
    return (
        text.str.to_lowercase()
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")  # the accents NFKD split from their letters
        .str.replace_all(r"[^\p{L}\p{N}\s\p{Pd}]", "")
        .str.replace_all(r"[\s\p{Pd}]+", " ")
        .str.strip_chars()
    )


def index(children: pl.DataFrame) -> pl.DataFrame:
    """Every listed child with the keys a search scans, in the order a list shows them (surname, forename)."""
    # One column, so a typed word is one scan of it: a space before each name word and each identifier.
    full_name = pl.concat_str("first_name", "last_name", separator=" ", ignore_nulls=True)
    ids = [pl.col(c).str.to_lowercase() for c in ("la_child_id", "upn")]
    return children.select(
        "la_child_id",
        "upn",
        "first_name",
        "last_name",
        "dob",
        pl.concat_str(pl.lit(""), name_words(full_name), *ids, separator=" ", ignore_nulls=True).alias(KEY),
    ).sort("last_name", "first_name", "la_child_id", nulls_last=True)


@dataclass(frozen=True)
class Matches:
    """The children a search offers, best first (LA child ID to label), and how many matched in all."""

    labels: dict[str, str]
    total: int
    query: str
    limited: bool = False  # the viewer sees only their teams', schools' and localities' children

    def note(self) -> str | None:
        """What a person needs told about the list: nothing found, or that it shows only the first matches."""
        if not self.query.strip():
            return None
        if self.total == 0:
            mine = " among your teams, schools and localities" if self.limited else ""
            return f"No child{mine} matches those words. Check the spelling, or type less of the name."
        if self.total > len(self.labels):
            return f"Showing {len(self.labels)} of {counted(self.total, 'match', 'matches')}; type more of the name."
        return None


def _word(word: str) -> pl.Expr:
    """Whether a child matches one typed word: the start of a word of their name (compared as names are), or
    of an identifier (as typed, in lower case)."""
    as_name, as_id = pl.select(name_words(pl.lit(word))).item(), word.lower()
    starts = [" " + w for w in dict.fromkeys((as_name, as_id)) if w]
    return pl.any_horizontal(pl.col(KEY).str.contains(w, literal=True) for w in starts)


def labelled(children: pl.DataFrame) -> dict[str, str]:
    """Each child's line in the list: name, date of birth and both identifiers, so two children with one
    name are told apart."""
    name = pl.concat_str("first_name", "last_name", separator=" ", ignore_nulls=True)
    born = pl.concat_str(pl.lit(", born "), pl.col("dob").dt.strftime("%d/%m/%Y"))
    label = pl.format(
        "{}{} (LA child ID {}, UPN {})",
        pl.when(name != "").then(name).otherwise(pl.lit("Name not known")),
        born.fill_null(""),
        "la_child_id",
        pl.col("upn").fill_null("not known"),
    )
    return dict(children.select("la_child_id", label).iter_rows())


def markdown_text(label: str) -> str:
    """A label as written, for a widget that reads its label as markdown (a button's): a name or ID with
    `*`, `_` or `$` in it shows those characters, not italics or a formula."""
    return MARKDOWN.sub(r"\\\1", label)


def find(children: pl.DataFrame, query: str, limit: int = LIMIT, limited: bool = False) -> Matches:
    """The children of an `index` the words typed find, an exact LA child ID or UPN first, then by name.
    With nothing typed, every child when they fit the list (a social worker's own dozen), else none."""
    words = query.split()
    found = children
    for word in words:  # a word at a time: each scans only the children the words before it left
        found = found.filter(_word(word))
    if not words and found.height > limit:
        return Matches({}, found.height, query, limited)
    whole = query.strip().lower()
    exact = found.filter(
        (pl.col("la_child_id").str.to_lowercase() == whole) | (pl.col("upn").str.to_lowercase() == whole)
    )
    shown = pl.concat([exact, found.head(limit)]).unique("la_child_id", keep="first", maintain_order=True)
    return Matches(labelled(shown.head(limit)), found.height, query, limited)
