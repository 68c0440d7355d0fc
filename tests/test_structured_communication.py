import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.be import ogm_vcs

from invoicing.models import Invoice
from invoicing.services import structured_communication


@pytest.mark.parametrize(
    ("year", "sequence", "digits"),
    [
        # 2026000001 = 97 x 20886597 + 92
        (2026, 1, "202600000192"),
        # 2026000007 leaves 1: the check digits keep their leading zero.
        (2026, 7, "202600000701"),
        # 2026000006 = 97 x 20886598 leaves 0: the check digits are 97, not 00.
        (2026, 6, "202600000697"),
        # 2027000076 = 97 x 20896908 leaves 0 as well.
        (2027, 76, "202700007697"),
        # 2027123456 = 97 x 20898179 + 93
        (2027, 123456, "202712345693"),
    ],
)
def test_it_adds_the_remainder_modulo_97_as_check_digits(year, sequence, digits):
    assert structured_communication(year=year, sequence=sequence) == digits


def test_it_agrees_with_the_published_example():
    # Febelfin's example communication +++010/8068/17183+++.
    assert ogm_vcs.calc_check_digits("0108068171") == "83"
    assert structured_communication(year=108, sequence=68171) == "010806817183"


def test_it_shows_the_communication_between_plus_signs():
    invoice = Invoice(structured_communication="202600000697")

    assert invoice.structured_communication_display == "+++202/6000/00697+++"


def test_it_shows_nothing_for_an_invoice_without_a_communication():
    assert Invoice(structured_communication="").structured_communication_display == ""


@given(
    st.integers(min_value=2024, max_value=2099),
    st.integers(min_value=1, max_value=999_999),
)
def test_it_makes_a_communication_every_bank_accepts(year, sequence):
    digits = structured_communication(year=year, sequence=sequence)

    assert ogm_vcs.validate(digits) == digits
    assert digits.startswith(f"{year}{sequence:06d}")
    remainder = int(digits[:10]) % 97
    assert int(digits[10:]) == (remainder or 97)


@given(
    st.integers(min_value=2024, max_value=2099),
    st.integers(min_value=1, max_value=999_999),
)
def test_it_displays_a_communication_that_reads_back_to_its_digits(year, sequence):
    digits = structured_communication(year=year, sequence=sequence)
    shown = Invoice(structured_communication=digits).structured_communication_display

    assert len(shown) == len("+++ddd/dddd/ddddd+++")
    assert shown[:3] == shown[-3:] == "+++"
    assert (shown[6], shown[11]) == ("/", "/")
    assert ogm_vcs.validate(shown) == digits
