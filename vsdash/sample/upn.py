"""Unique pupil numbers for the sample: valid ones, and the realistic ways they go wrong."""

from __future__ import annotations

import numpy as np

from vsdash.identifiers import with_check_letter

# DfE: the check-letter alphabet (no I, O or S).
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"


def make_upns(la: np.ndarray, estab: np.ndarray, year2: np.ndarray, serial: np.ndarray) -> list[str]:
    """Valid UPNs from the issuing school's LA and establishment number, year of issue and serial."""
    return [
        with_check_letter(f"{a}{e}{y:02d}{s:03d}")
        for a, e, y, s in zip(la.tolist(), estab.tolist(), year2.tolist(), serial.tolist(), strict=True)
    ]


def wrong_check_letter(upn: str) -> str:
    """The same UPN with a different (wrong) check letter."""
    i = (UPN_ALPHABET.index(upn[0]) + 7) % 23
    return UPN_ALPHABET[i] + upn[1:]


def wrong_length(upn: str, rng: np.random.Generator) -> str:
    """A UPN cut short or with a stray digit, as typed into a spreadsheet."""
    return upn[:-1] if rng.random() < 0.5 else upn + str(rng.integers(0, 10))


def typo(upn: str, rng: np.random.Generator) -> str:
    """A transcription slip in the serial or year: two adjacent digits swapped, or one mistyped."""
    for _ in range(10):
        i = int(rng.integers(8, 12))  # within year + serial (positions 9-13)
        if upn[i] != upn[i + 1]:
            return upn[:i] + upn[i + 1] + upn[i] + upn[i + 2 :]
    i = 12
    return upn[:i] + str((int(upn[i]) + 1) % 10)
