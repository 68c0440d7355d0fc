import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.be import vat

from accounts.models import (
    Configuration,
    Organisation,
    Role,
    User,
    enterprise_number_normalise,
)

from . import factories


def test_it_computes_valid_check_digits_for_factory_numbers():
    # 97 - (02074512 mod 97) = 97 - 70 = 27: Stad Gent's number.
    assert factories.enterprise_number("02074512") == "0207451227"


@given(st.integers(min_value=1, max_value=19_999_999))
def test_it_makes_numbers_the_register_accepts(first_eight):
    assert vat.is_valid(factories.enterprise_number(first_eight))


@pytest.mark.parametrize(
    "spelling",
    ["0403.170.701", "0403170701", "BE0403170701", "BE 0403 170 701", "403170701"],
)
def test_it_reads_the_usual_spellings_as_ten_digits(spelling):
    assert enterprise_number_normalise(spelling) == "0403170701"


@pytest.mark.parametrize("wrong", ["0403.170.702", "12345", "", "BE04031707O1"])
def test_it_refuses_a_number_that_is_not_an_enterprise_number(wrong):
    with pytest.raises(ValidationError) as raised:
        enterprise_number_normalise(wrong)

    assert raised.value.code == "invalid_enterprise_number"


def _organisation(ibz, **values):
    return Organisation(
        **{
            "legal_name": "Hulpverleningszone Centrum",
            "enterprise_number": "0403.170.701",
            "street": "Brandweerlaan 1",
            "postcode": "9000",
            "city": "Gent",
            "billing_email": "facturen@hvzcentrum.example.be",
            "contracting_authority": ibz,
            **values,
        }
    )


@pytest.mark.django_db
class TestOrganisation:
    def test_it_stores_the_ten_digits_of_a_dotted_number(self, ibz):
        organisation = _organisation(ibz, enterprise_number="0403.170.701")

        organisation.full_clean()

        assert organisation.enterprise_number == "0403170701"
        assert organisation.enterprise_number_display == "0403.170.701"

    def test_it_refuses_an_invalid_enterprise_number_and_names_it(self, ibz):
        organisation = _organisation(ibz, enterprise_number="0403.170.702")

        with pytest.raises(ValidationError) as raised:
            organisation.full_clean()

        [message] = raised.value.message_dict["enterprise_number"]
        assert "0403.170.702" in message
        assert "enterprise number" in message

    def test_it_refuses_a_number_already_registered_in_another_spelling(
        self, organisation_a
    ):
        # Stad Gent is stored as 0207451227.
        other = _organisation(
            organisation_a.contracting_authority, enterprise_number="BE0207451227"
        )

        with pytest.raises(ValidationError) as raised:
            other.full_clean()

        assert list(raised.value.message_dict) == ["enterprise_number"]
        assert raised.value.error_dict["enterprise_number"][0].code == "unique"
        assert Organisation.objects.filter(enterprise_number="0207451227").count() == 1

    def test_it_registers_a_number_once_however_it_is_written(self, ibz):
        first = _organisation(ibz, enterprise_number="0403.170.701")
        first.full_clean()
        first.save()
        second = _organisation(
            ibz, legal_name="Brandweer Zone Oost", enterprise_number="BE0403170701"
        )

        with pytest.raises(ValidationError) as raised:
            second.full_clean()

        assert raised.value.error_dict["enterprise_number"][0].code == "unique"
        assert Organisation.objects.count() == 1

    def test_it_refuses_the_dotted_spelling_of_a_registered_number(
        self, organisation_a
    ):
        other = _organisation(
            organisation_a.contracting_authority, enterprise_number="0207.451.227"
        )

        with pytest.raises(ValidationError) as raised:
            other.full_clean()

        assert raised.value.error_dict["enterprise_number"][0].code == "unique"

    def test_it_stores_a_vat_number_with_its_country_prefix(self, ibz):
        organisation = _organisation(ibz, vat_number="0403 170 701")

        organisation.full_clean()

        assert organisation.vat_number == "BE0403170701"

    def test_it_refuses_an_invalid_vat_number(self, ibz):
        organisation = _organisation(ibz, vat_number="BE 0403.170.799")

        with pytest.raises(ValidationError) as raised:
            organisation.full_clean()

        assert list(raised.value.message_dict) == ["vat_number"]

    def test_it_asks_for_the_name_of_a_specific_configuration(self, ibz):
        organisation = _organisation(ibz, configuration=Configuration.SPECIFIC)

        with pytest.raises(ValidationError) as raised:
            organisation.full_clean()

        assert list(raised.value.message_dict) == ["specific_configuration_name"]


@pytest.mark.django_db
class TestUserEmail:
    def test_it_refuses_an_email_already_used_in_another_case(self, admin_a):
        # admin_a is an.peeters@stad.gent.example.be.
        with pytest.raises(ValidationError) as raised:
            User.objects.create_user(
                "An.Peeters@Stad.Gent.example.be",
                factories.PASSWORD,
                first_name="An",
                last_name="Peeters",
                role=Role.ICMS_CELL,
            )

        assert "already exists" in " ".join(raised.value.messages)
        assert User.objects.filter(email__iexact=admin_a.email).count() == 1

    def test_it_keeps_the_database_from_storing_the_same_email_twice(self, admin_a):
        with pytest.raises(IntegrityError):
            User.objects.create(
                email=admin_a.email.upper(),
                first_name="An",
                last_name="Peeters",
                role=Role.TCD,
            )

    def test_it_logs_in_with_the_email_in_any_case(self, admin_a, rf):
        # django-axes counts every attempt, so authentication needs its request.
        request = rf.post("/login/")

        user = authenticate(
            request,
            username="AN.PEETERS@stad.gent.example.be",
            password=factories.PASSWORD,
        )

        assert user == admin_a

    def test_it_puts_an_organisation_admin_in_an_organisation(self, db):
        with pytest.raises(ValidationError):
            User.objects.create_user(
                "geen.organisatie@example.be",
                factories.PASSWORD,
                first_name="Geen",
                last_name="Organisatie",
                role=Role.ORGANISATION_ADMIN,
            )

    def test_it_keeps_staff_outside_organisations(self, organisation_a):
        with pytest.raises(ValidationError):
            User.objects.create_user(
                "cel@ibz.example.be",
                factories.PASSWORD,
                first_name="Cel",
                last_name="Lid",
                role=Role.ICMS_CELL,
                organisation=organisation_a,
            )
