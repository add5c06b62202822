"""Checks for the identifiers that join the feeds: UPN, URN and LA number."""

from __future__ import annotations

import re

from stdnum.gb import upn as stdnum_upn

# ASCII digits only: \\d would also take fullwidth digits (U+FF11, U+FF12, ...) and '²', which pass the pattern and
# then break a cast.
UPN_PATTERN = r"[A-Z][0-9]{11}[0-9A-Z]"
URN_PATTERN = r"[0-9]{6}"
LA_PATTERN = r"[0-9]{3}"
_UPN_SHAPE = re.compile(UPN_PATTERN)
_URN_SHAPE = re.compile(URN_PATTERN)
_LA_SHAPE = re.compile(LA_PATTERN)


def upn_problem(value: str) -> str | None:
    """Why a UPN is unusable, in plain words, or None when it is valid.

    The check letter comes from python-stdnum; its list of LA numbers is not used, because LA numbers
    change (940/941, 942/943) and Welsh authorities issue UPNs too.
    """
    upn = value.strip().upper()
    if not upn:
        return "UPN is empty"
    if len(upn) != 13:
        return f"UPN {value!r} has {len(upn)} characters; a UPN has 13"
    if not _UPN_SHAPE.fullmatch(upn) or upn[-1] in "IOS":
        return f"UPN {value!r} is not a letter, 11 digits and a final digit or letter"
    if stdnum_upn.calc_check_digit(upn[1:]) != upn[0]:
        return f"UPN {value!r} has the wrong check letter (expected {stdnum_upn.calc_check_digit(upn[1:])})"
    return None


def with_check_letter(body: str) -> str:
    """A full UPN from its last 12 characters (used by the sample generator and tests)."""
    return stdnum_upn.calc_check_digit(body) + body


def urn_problem(value: str) -> str | None:
    """Why a school URN is unusable, or None when it has the GIAS shape (6 digits)."""
    if not _URN_SHAPE.fullmatch(value.strip()):
        return f"URN {value!r} is not a 6-digit school reference number"
    return None


def la_problem(value: str) -> str | None:
    """Why an LA number is unusable, or None when it is 3 digits."""
    if not _LA_SHAPE.fullmatch(value.strip()):
        return f"LA number {value!r} is not 3 digits"
    return None
