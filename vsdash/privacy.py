"""Pseudonymised mode: frames with initials for names and keyed hashes for identifiers, so demonstrations and
analysis outside the team show no child's identity while every figure and join still works.

Pseudonymising happens once, at the frames (`pseudonymise`), so every figure, view and export worked out
from them is pseudonymised without each having to remember it; a table that leaves the store another way
(actions, the audit log, the data-quality tables) goes through `pseudonymise_frame`.

What each field becomes, and why (ICO, "Anonymisation, pseudonymisation and privacy enhancing technologies"
guidance: a pseudonym must not be reversible without the key, and fields that together single a person out
must be coarsened too):

- UPN and LA child ID: a keyed hash (HMAC-SHA256, RFC 2104) of the value, the same every time for the same
  key, so joins between frames survive; without the key the value cannot be recovered or guessed by hashing
  every possible UPN (a plain hash of a 13-character UPN could be).
- first and last names: initials ("Jo Bloggs" becomes "J." and "B.").
- social workers' names: initials too. A named worker and a team narrow a child down to a caseload of a
  dozen; initials keep the "by social worker" breakdown usable (two workers with the same initials in one
  authority show as one, which a demonstration can live with).
- date of birth: the first day of its month. The year group and age bands the pages show need only the
  month, and a full date of birth beside initials and a school is enough to identify most children.
- teams, localities, schools, gender, EHCP and the responsible LA stay: they are what the figures are broken
  down by, and none names a person on its own.
- free text (`note`, `detail`, `raw`) is blanked in `pseudonymise_frame`: anyone may have written a name in it.
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from vsdash.config import PROJECT_ROOT
from vsdash.frames import MARKS_SCHEMA, DayReader, Frames, conform

MIN_KEY_CHARS = 16  # 128 bits of a random key: NCSC's floor for a symmetric key
TOKEN_HEX = 16  # 64 bits: two of 300,000 children sharing a token is a one in 400 million chance
KIND_PREFIX = {"upn": "PU-", "la_child_id": "PC-"}

# Columns a table may carry identifiers or names in (the data-quality tables name a UPN by where it came from).
UPN_SUFFIX = "upn"  # upn, alias_upn, list_upn, attendance_upn
CHILD_ID_SUFFIX = "la_child_id"
NAME_COLUMNS = ("first_name", "last_name")
FULL_NAME_COLUMNS = ("child", "social_worker")  # "Jo Bloggs" in one cell (views.py joins a child's names)
FREE_TEXT_COLUMNS = ("note", "detail", "raw")


class Pseudonymiser:
    """Turns identifiers into keyed tokens and names into initials, the same way every time for one key."""

    def __init__(self, key: bytes | str) -> None:
        raw = key.encode() if isinstance(key, str) else bytes(key)
        if len(raw.strip()) < MIN_KEY_CHARS:
            raise ValueError(
                f"the pseudonymisation key needs at least {MIN_KEY_CHARS} characters (a random "
                "secret kept out of the configuration file); it has "
                f"{len(raw.strip())}"
            )
        self._key = raw
        self._tokens: dict[tuple[str, str], str] = {}
        self._originals: dict[tuple[str, str], str] = {}  # (kind, token) -> the value it stands for

    def token(self, value: str | None, kind: str) -> str | None:
        """The pseudonym of one identifier: `PU-` (a UPN) or `PC-` (an LA child ID) and 16 hex digits.

        A real UPN is 13 letters and digits (DfE, "Unique pupil numbers (UPN)"): a token is 19 characters with
        a hyphen, so it can never pass the UPN check (`vsdash.identifiers`) nor be read as one; LA child IDs
        have no national shape, and the `PC-` prefix and fixed length mark a token as one. The kind is hashed
        with the value, so a child's UPN and LA child ID never share a token. None stays None.
        """
        if value is None:
            return None
        prefix = KIND_PREFIX.get(kind)
        if prefix is None:
            raise ValueError(f"unknown identifier kind {kind!r}; use one of {', '.join(KIND_PREFIX)}")
        cached = self._tokens.get((kind, value))
        if cached is None:
            digest = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
            cached = self._tokens[(kind, value)] = prefix + digest[:TOKEN_HEX].upper()
            self._originals[(kind, cached)] = value
        return cached

    def original(self, token: str, kind: str) -> str | None:
        """The value a token this pseudonymiser made stands for (None for a token it never made): the door
        keeps the real child on the audit log and in actions."""
        return self._originals.get((kind, token))

    def initials(self, first: str | None, last: str | None) -> str:
        """A person's initials, "J. B." for "Jo Bloggs"; an empty string when neither name is known."""
        return " ".join(i for i in (initial(first), initial(last)) if i)

    def tokens(self, values: pl.Series, kind: str) -> dict[str, str]:
        """Each distinct value's token, hashed once however many rows carry it; refuses a collision, which
        would silently merge two children."""
        distinct = values.drop_nulls().unique().to_list()
        mapping: dict[str, str] = {v: t for v in distinct if (t := self.token(v, kind)) is not None}
        if len(set(mapping.values())) != len(mapping):
            raise ValueError(f"two {kind} values share a pseudonym; choose another key")
        return mapping


def initial(name: str | None) -> str | None:
    """A name's initial: the first letter of its first word, upper case, with a point; each part of a
    hyphenated word gives one ("Mary-Jane" is "M.-J."). None when the name has no letter."""
    if name is None:
        return None
    words = unicodedata.normalize("NFC", name).split()
    if not words:
        return None
    parts = [_first_letter(part) for part in words[0].split("-")]
    letters = [f"{p}." for p in parts if p]
    return "-".join(letters) or None


def _first_letter(word: str) -> str:
    """The first letter of a word (leading punctuation passed over, as in "'Aisha"), with any accent that
    follows it as a combining mark, upper case where that is still one letter (not "ß" to "SS")."""
    for i, char in enumerate(word):
        if char.isalnum():
            marks = ""
            for follower in word[i + 1 :]:
                if not unicodedata.combining(follower):
                    break
                marks += follower
            upper = char.upper()
            return (upper if len(upper) == 1 else char) + marks
    return ""


def _full_name_initials(name: str | None) -> str | None:
    """A whole name in one cell ("Jo Bloggs") as "J. B.": the first and the last word's initials."""
    if name is None or not name.split():
        return None
    words = name.split()
    return " ".join(i for i in (initial(words[0]), initial(words[-1]) if len(words) > 1 else None) if i) or None


def _mapped(frame: pl.DataFrame, column: str, mapping: dict[str, str | None]) -> pl.DataFrame:
    """The column with every value replaced through the mapping (nulls stay null), type unchanged."""
    return frame.with_columns(pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String))


def _tokenised(frame: pl.DataFrame, column: str, kind: str, p: Pseudonymiser) -> pl.DataFrame:
    """The column's identifiers as tokens: the distinct values hashed once, then one vectorised replace."""
    mapping: dict[str, str | None] = dict(p.tokens(frame.get_column(column), kind))
    return _mapped(frame, column, mapping)


def _with_initials(frame: pl.DataFrame, column: str, full_name: bool = False) -> pl.DataFrame:
    """The column's names as initials, each distinct name worked out once."""
    convert = _full_name_initials if full_name else initial
    mapping = {v: convert(v) for v in frame.get_column(column).drop_nulls().unique().to_list()}
    return _mapped(frame, column, mapping)


def pseudonymise_frame(frame: pl.DataFrame, p: Pseudonymiser) -> pl.DataFrame:
    """One table leaving the store by a way other than the frames (actions, the audit log, data-quality
    tables): every `*upn` and `*la_child_id` column tokenised, names as initials, free text blanked, the
    columns and their types kept."""
    out = frame
    for column, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        if column.endswith(UPN_SUFFIX):
            out = _tokenised(out, column, "upn", p)
        elif column.endswith(CHILD_ID_SUFFIX):
            out = _tokenised(out, column, "la_child_id", p)
        elif column in NAME_COLUMNS:
            out = _with_initials(out, column)
        elif column in FULL_NAME_COLUMNS:
            out = _with_initials(out, column, full_name=True)
        elif column in FREE_TEXT_COLUMNS:
            out = out.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    if "dob" in frame.columns and frame.schema["dob"] == pl.Date:
        out = out.with_columns(pl.col("dob").dt.month_start())
    return out


def pseudonymise(frames: Frames, p: Pseudonymiser) -> Frames:
    """The frames as a pseudonymised view shows them: every figure worked out from them equals the real one,
    child for child, under tokens and initials (see the module's docstring for each field)."""
    children = pseudonymise_frame(frames.children, p)
    real_upns = (
        pl.concat(
            [
                s
                for s in (
                    frames.children["upn"],
                    frames.suspensions["upn"],
                    frames.marks["upn"] if frames.marks is not None else None,
                    frames.weeks["upn"] if frames.weeks is not None else None,
                )
                if s is not None
            ]
        )
        .drop_nulls()
        .unique()
    )
    return replace(
        frames,
        marks=pseudonymise_frame(frames.marks, p) if frames.marks is not None else None,
        children=children,
        episodes=pseudonymise_frame(frames.episodes, p),
        schools=frames.schools,
        suspensions=pseudonymise_frame(frames.suspensions, p),
        weeks=pseudonymise_frame(frames.weeks, p) if frames.weeks is not None else None,
        day_reader=(
            _pseudonymised_reader(frames.day_reader, p, p.tokens(real_upns, "upn"))
            if frames.day_reader is not None
            else None
        ),
    )


def _pseudonymised_reader(read: DayReader, p: Pseudonymiser, tokens: dict[str, str]) -> DayReader:
    """A day reader that takes and gives tokens: a tokenised UPN reads that child's real rows, and every
    row comes back tokenised. A value that is no known token (a real UPN typed in) reads nothing."""
    real_of = {token: upn for upn, token in tokens.items()}

    def day_reader(first: date | None, last: date | None, upns: tuple[str, ...] | None) -> pl.DataFrame:
        """Day rows between two dates, of some tokenised UPNs or everyone, tokenised."""
        real = None if upns is None else tuple(real_of[u] for u in upns if u in real_of)
        if real == ():
            return conform(None, MARKS_SCHEMA)
        return pseudonymise_frame(read(first, last, real), p)

    return day_reader


SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


def key_in(secrets: Mapping[str, Any]) -> str | None:
    """The pseudonymisation key in a parsed secrets.toml: `pseudonym_key` under `[vsdash]`."""
    section = secrets.get("vsdash") or {}
    key = section.get("pseudonym_key") if isinstance(section, Mapping) else None
    return str(key) if key else None


def key_from_file(path: Path = SECRETS_FILE) -> str | None:
    """The key for the command line, from the same secrets.toml the dashboard reads (None without one)."""
    try:
        return key_in(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError):
        return None
