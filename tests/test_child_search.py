"""Finding a child: words in any order, each the start of a name's word or of an identifier, case and accents
aside; a short list with the exact identifier first and a count of the rest; and, through the door, only the
viewer's own children, under their pseudonyms when the mode is on."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from test_auth import door, loaded, pseudonymised  # noqa: F401 (loaded: a fixture)

from vsdash import child_search
from vsdash.access import AccessDenied
from vsdash.frames import CHILDREN_SCHEMA

# Six children, listed by surname then forename: Jones, O'Brien, Ojo, Smith, Smith-Jones, Young.
CHILDREN = pl.DataFrame(
    [
        ("C101", "U11", "Jo", "Smith", date(2014, 3, 2)),
        ("C102", "U12", "Joanna", "Smith-Jones", date(2013, 5, 6)),
        ("C201", "U21", "Zoë", "O'Brien", date(2012, 1, 9)),
        ("C202", "U22", "Ben", "Jones", None),
        ("C301", None, "Amy", "Ojo", date(2015, 7, 1)),
        ("C10", "U31", "Yan", "Young", date(2011, 2, 3)),
    ],
    schema={k: CHILDREN_SCHEMA[k] for k in ("la_child_id", "upn", "first_name", "last_name", "dob")},
    orient="row",
)
INDEX = child_search.index(CHILDREN)


def found(query: str, limit: int = child_search.LIMIT) -> list[str]:
    """The LA child IDs a search lists, in order."""
    return list(child_search.find(INDEX, query, limit).labels)


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("smith jo", ["C101", "C102"]),  # the order of the words is free
        ("jo smith", ["C101", "C102"]),
        ("JO  SMITH ", ["C101", "C102"]),  # case and spaces do not count
        ("jo", ["C202", "C101", "C102"]),  # Jones, Jo, Joanna; not Amy Ojo: a word's start, never its middle
        ("mith", []),
        ("jones", ["C202", "C102"]),  # hyphens part a name into words
        ("smith-jones", ["C102"]),
        ("smith jones", ["C102"]),
        ("zoe", ["C201"]),  # accents do not count, either way round
        ("ZOË", ["C201"]),
        ("obrien", ["C201"]),  # nor apostrophes
        ("o'brien", ["C201"]),
        ("c1", ["C101", "C102", "C10"]),  # the start of an LA child ID
        ("c10", ["C10", "C101", "C102"]),  # the exact ID first, then by name
        ("01", []),  # an identifier's start, never its middle
        ("u2", ["C202", "C201"]),  # the start of a UPN, listed by name
        ("u21", ["C201"]),
        ("c101 smith", ["C101"]),  # an identifier and a name together
        ("smith u22", []),  # every word must match
        ("xyz", []),
        ("", ["C202", "C201", "C301", "C101", "C102", "C10"]),  # nothing typed: all six fit the list
    ],
)
def test_each_word_typed_must_start_a_word_of_the_name_or_an_identifier(query, ids):
    assert found(query) == ids


def test_the_list_stops_at_its_limit_and_counts_the_rest():
    matches = child_search.find(INDEX, "jo", limit=2)
    assert list(matches.labels) == ["C202", "C101"] and matches.total == 3
    assert matches.note() == "Showing 2 of 3 matches; type more of the name."
    assert child_search.find(INDEX, "c10", limit=1).labels.keys() == {"C10"}  # the exact ID beats the names
    assert child_search.find(INDEX, "jo", limit=3).note() is None  # all found are shown


def test_nothing_typed_lists_every_child_only_when_they_fit():
    everyone = child_search.find(INDEX, " ", limit=5)
    assert everyone.labels == {} and everyone.total == 6 and everyone.note() is None
    assert len(child_search.find(INDEX, "", limit=6).labels) == 6


def test_a_search_that_finds_nobody_says_so_in_the_viewer_s_terms():
    assert child_search.find(INDEX, "xyz").note() == (
        "No child matches those words. Check the spelling, or type less of the name."
    )
    assert child_search.find(INDEX, "xyz", limited=True).note() == (
        "No child among your teams, schools and localities matches those words. Check the spelling, or type "
        "less of the name."
    )


def test_each_line_names_the_child_their_birth_date_and_identifiers():
    labels = child_search.find(INDEX, "").labels
    assert labels["C101"] == "Jo Smith, born 02/03/2014 (LA child ID C101, UPN U11)"
    assert labels["C202"] == "Ben Jones (LA child ID C202, UPN U22)"  # no date of birth known
    assert labels["C301"] == "Amy Ojo, born 01/07/2015 (LA child ID C301, UPN not known)"
    nameless = child_search.index(
        CHILDREN.head(1).with_columns(first_name=pl.lit(None, pl.String), last_name=pl.lit(None, pl.String))
    )
    assert child_search.find(nameless, "c101").labels == {
        "C101": "Name not known, born 02/03/2014 (LA child ID C101, UPN U11)"
    }


def test_initials_and_tokens_are_searched_as_a_pseudonymised_list_shows_them():
    masked = child_search.index(
        CHILDREN.head(2).with_columns(
            la_child_id=pl.Series(["PC-0a1b", "PC-9f8e"]),
            upn=pl.Series(["PU-77aa", "PU-66bb"]),
            first_name=pl.Series(["J.", "J."]),
            last_name=pl.Series(["S.", "S.-J."]),
        )
    )
    assert list(child_search.find(masked, "j. s.").labels) == ["PC-0a1b", "PC-9f8e"]
    assert list(child_search.find(masked, "s j").labels) == ["PC-0a1b", "PC-9f8e"]
    assert list(child_search.find(masked, "s.-j.").labels) == ["PC-9f8e"]
    assert list(child_search.find(masked, "pc-9").labels) == ["PC-9f8e"]
    assert list(child_search.find(masked, "PU-77").labels) == ["PC-0a1b"]
    assert child_search.find(masked, "smith").total == 0


# ---- through the door ------------------------------------------------------------------------------------


def test_an_officer_finds_only_their_own_children(loaded, cfg):
    everyone, north = door(loaded, cfg), door(loaded, cfg, teams=("North team",))
    assert list(everyone.find_children("price ava").labels) == ["C1"]
    assert list(everyone.find_children("").labels) == ["C2", "C1"]  # Jones, Price
    assert list(north.find_children("").labels) == ["C1"]
    ben = north.find_children("ben")
    assert ben.total == 0 and "among your teams" in (ben.note() or "")
    assert north.find_children("C2").labels == {}  # nor by his LA child ID
    with pytest.raises(AccessDenied):
        door(loaded, cfg, role="forum").find_children("ava")


def test_pseudonymised_mode_finds_children_by_their_initials_and_tokens(loaded, cfg):
    masked = pseudonymised(loaded, cfg)
    found = masked.find_children("a. p.")
    (token,) = found.labels
    assert token.startswith("PC-") and found.labels[token].startswith("A. P., born 01/03/2014 (LA child ID PC-")
    assert list(masked.find_children(token[:8]).labels) == [token]
    assert masked.find_children("ava").total == 0 and masked.find_children("C1").total == 0


def test_a_label_shows_the_characters_markdown_would_read_as_formatting():
    assert child_search.markdown_text("Jo *Smith* (LA child ID C_1, UPN $5)") == (
        r"Jo \*Smith\* (LA child ID C\_1, UPN \$5)"
    )
    assert child_search.markdown_text("Zoë O'Brien-Ojo (LA child ID C1, UPN U1)") == (
        "Zoë O'Brien-Ojo (LA child ID C1, UPN U1)"
    )
