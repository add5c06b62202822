import pytest

from vsdash.identifiers import la_problem, upn_problem, urn_problem, with_check_letter


@pytest.mark.parametrize(
    "upn",
    [
        "B801200005001",  # the DfE's own example
        "b801200005001",  # case does not matter
        with_check_letter("942123412001"),  # LA number newer than python-stdnum's list
        with_check_letter("680123412001"),  # Welsh authority (Swansea)
        with_check_letter("80120000500A"),  # temporary UPN ends in a letter
    ],
)
def test_valid_upns(upn):
    assert upn_problem(upn) is None


def test_check_letter_by_hand():
    # B801200005001: digits 8,0,1,2,0,0,0,0,5,0,0,1 weighted 2..13:
    # 16+0+4+10+0+0+0+0+50+0+0+13 = 93; 93 mod 23 = 1 -> 'B' (A=0, B=1)
    assert with_check_letter("801200005001") == "B801200005001"


@pytest.mark.parametrize(
    "upn, words",
    [
        ("A801200005001", "wrong check letter (expected B)"),
        ("B80120000500", "has 12 characters"),
        ("", "empty"),
        ("B80120000X001", "not a letter, 11 digits"),
        ("B80120000500I", "not a letter, 11 digits"),  # I, O, S are never used
    ],
)
def test_invalid_upns(upn, words):
    assert words in upn_problem(upn)


def test_urn_and_la():
    assert urn_problem("123456") is None
    assert "6-digit" in urn_problem("12345")
    assert la_problem("886") is None
    assert "3 digits" in la_problem("88")
