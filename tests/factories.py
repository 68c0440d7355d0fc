"""Test data: factories for the models, and helpers that walk an access request
through the ordering procedure.

The factories build rows directly. The helpers at the end never set a status
by hand: they call the same services the portal calls, so a request they bring
to "accounts created" went through every check a real one goes through.
"""

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Language, Organisation, Role, User
from invoicing.models import ContractingAuthority, FrameworkAgreement, PriceAmendment
from orders.models import AccessRequest
from orders.services import (
    access_request_issue_order_form,
    access_request_refuse,
    access_request_submit,
    order_form_submit,
)
from subscriptions import periods
from subscriptions.models import IcmsAccount, Subscription, SubscriptionPeriod
from subscriptions.services import icms_account_create

# Every user the factories make logs in with this password.
PASSWORD = "Zonnebloem-Schelde-2026"


def enterprise_number(first_eight):
    """A valid Belgian enterprise number from its first eight digits.

    The last two digits are 97 minus the remainder of the first eight by 97.
    """
    first_eight = f"{int(first_eight):08d}"
    return f"{first_eight}{97 - int(first_eight) % 97:02d}"


class ContractingAuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractingAuthority
        django_get_or_create = ("name",)

    name = "FOD Binnenlandse Zaken"
    short_name = "IBZ"


class FrameworkAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkAgreement

    contracting_authority = factory.SubFactory(ContractingAuthorityFactory)
    reference = factory.Sequence(lambda n: f"IBZ/ICMS/2024/{n + 1:03d}")
    yearly_price = Decimal("120.00")
    starts_on = date(2024, 1, 1)


class PriceAmendmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceAmendment

    agreement = factory.SubFactory(FrameworkAgreementFactory)
    reference = factory.Sequence(lambda n: f"Addendum {n + 1}")
    yearly_price = Decimal("130.00")
    applies_from = date(2027, 1, 1)


# Cities and their postcodes, so an organisation's address reads like a real one.
CITIES = [
    ("9000", "Gent"),
    ("2000", "Antwerpen"),
    ("3000", "Leuven"),
    ("8000", "Brugge"),
    ("3500", "Hasselt"),
    ("2800", "Mechelen"),
    ("8500", "Kortrijk"),
    ("9300", "Aalst"),
]


class OrganisationFactory(factory.django.DjangoModelFactory):
    """A Dutch-speaking fire and rescue zone under IBZ's agreement."""

    class Meta:
        model = Organisation

    class Params:
        place = factory.Iterator(CITIES)

    legal_name = factory.LazyAttribute(lambda o: f"Hulpverleningszone {o.place[1]}")
    enterprise_number = factory.Sequence(lambda n: enterprise_number(2_000_000 + n))
    street = factory.Faker("street_address", locale="nl_BE")
    postcode = factory.LazyAttribute(lambda o: o.place[0])
    city = factory.LazyAttribute(lambda o: o.place[1])
    country = "BE"
    billing_email = factory.Sequence(lambda n: f"facturatie{n}@zone.example.be")
    language = Language.DUTCH
    contracting_authority = factory.SubFactory(ContractingAuthorityFactory)


class UserFactory(factory.django.DjangoModelFactory):
    """A portal user, saved through the manager so it is validated as in the
    portal. Use one of the role factories below."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.be")
    first_name = factory.Faker("first_name", locale="nl_BE")
    last_name = factory.Faker("last_name", locale="nl_BE")
    language = Language.DUTCH
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        manager = cls._get_manager(model_class)
        return manager.create_user(*args, **kwargs)


class OrganisationAdminFactory(UserFactory):
    email = factory.Sequence(lambda n: f"beheerder{n}@zone.example.be")
    role = Role.ORGANISATION_ADMIN
    organisation = factory.SubFactory(OrganisationFactory)
    function = "Diensthoofd planning"
    language = factory.SelfAttribute("organisation.language")


class IcmsCellFactory(UserFactory):
    email = factory.Sequence(lambda n: f"cel{n}@ibz.example.be")
    role = Role.ICMS_CELL
    organisation = None


class TcdFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@tcd.example.com")
    role = Role.TCD
    organisation = None
    language = Language.ENGLISH


def base_package_account(*, organisation, activation_date, username=None):
    """An access of the distribution scheme, with its first period begun.

    The ICMS cell registers these outside the ordering procedure, so they
    have no order line and are never invoiced.
    """
    account = IcmsAccount.objects.create(
        organisation=organisation,
        username=username or f"basis.{organisation.pk}.{IcmsAccount.objects.count()}",
        holder_first_name="Els",
        holder_last_name="Wouters",
        holder_email=f"els.wouters{IcmsAccount.objects.count()}@zone.example.be",
        is_base_package=True,
    )
    subscription = Subscription.objects.create(
        account=account, activation_date=activation_date
    )
    first = periods.period(activation_date, 0)
    SubscriptionPeriod.objects.create(
        subscription=subscription, index=0, start=first.start, end=first.end
    )
    return account


def order_line(number, **values):
    """One person for an order form, as the form posts it."""
    return {
        "first_name": "Jan",
        "last_name": f"Janssens {number}",
        "email": f"jan.janssens{number}@zone.example.be",
        "function": "Officier",
        "training_included": False,
        **values,
    }


def billing_details(organisation, **values):
    return {
        "billing_name": organisation.legal_name,
        "billing_street": organisation.street,
        "billing_postcode": organisation.postcode,
        "billing_city": organisation.city,
        "billing_email": organisation.billing_email,
        "billing_vat_number": "",
        "purchase_order_reference": "",
        **values,
    }


def submitted_access_request(*, admin, quantity=2, motivation=None):
    """Step 1 done: the request waits for the ICMS cell."""
    return access_request_submit(
        requested_by=admin,
        quantity=quantity,
        motivation=motivation or "Extra officieren voor de provinciale coördinatie.",
        phone="+32 9 266 00 00",
        function=admin.function,
    )


def issued_order_form(*, admin, cell, quantity=2):
    """Step 2 done: the organisation has an order form to complete."""
    access_request = submitted_access_request(admin=admin, quantity=quantity)
    return access_request_issue_order_form(
        access_request=access_request, decided_by=cell
    )


def refused_access_request(*, admin, cell, reason=None):
    """Step 2 done the other way: the ICMS cell refused the request."""
    access_request = submitted_access_request(admin=admin)
    return access_request_refuse(
        access_request=access_request,
        decided_by=cell,
        reason=reason or "Deze dienst valt niet onder het spreidingsplan.",
    )


def submitted_order_form(*, admin, cell, quantity=2, lines=None):
    """Step 3 done: the order form reached the ICMS cell and TCD."""
    order_form = issued_order_form(admin=admin, cell=cell, quantity=quantity)
    return order_form_submit(
        order_form=order_form,
        submitted_by=admin,
        lines=lines or [order_line(number) for number in range(1, quantity + 1)],
        billing=billing_details(admin.organisation),
        conditions_accepted=True,
    )


def created_accounts(*, admin, cell, quantity=2, activation_date=None):
    """Step 4 done: every person on the order form has an ICMS account.

    Returns the access request, now "accounts created"; its accounts are
    ``access_request.organisation.icms_accounts``.
    """
    order_form = submitted_order_form(admin=admin, cell=cell, quantity=quantity)
    activation_date = activation_date or timezone.localdate()
    for line in order_form.lines.all():
        icms_account_create(
            order_line=line,
            username=f"{admin.organisation.pk}.{line.email.split('@')[0]}",
            activation_date=activation_date,
            created_by=cell,
        )
    return AccessRequest.objects.get(pk=order_form.access_request_id)
