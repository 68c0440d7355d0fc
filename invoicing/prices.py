"""TCD records the framework agreements and their amendments.

Nothing else changes a price. An agreement or amendment is never edited or
deleted once recorded: a new amendment replaces the price from its date on, and
every invoice line keeps the amount and the reference it was priced with.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.permissions import role_require
from audit.services import Summary, audit_record

from .models import ContractingAuthority, FrameworkAgreement, PriceAmendment


def _validate_price(yearly_price):
    if yearly_price is None or yearly_price < 0:
        raise ValidationError({"yearly_price": _("A price is zero or more.")})


@transaction.atomic
def contracting_authority_create(*, name, short_name, created_by, client_address=None):
    role_require(created_by, Role.TCD)
    name, short_name = (name or "").strip(), (short_name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the authority's name.")})
    if ContractingAuthority.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("This contracting authority already exists.")})
    authority = ContractingAuthority.objects.create(
        name=name, short_name=short_name or name[:30]
    )
    audit_record(
        action="contracting_authority.created",
        actor=created_by,
        subject=authority,
        summary=name,
        client_address=client_address,
    )
    return authority


@transaction.atomic
def framework_agreement_create(
    *,
    contracting_authority,
    reference,
    yearly_price,
    starts_on,
    created_by,
    client_address=None,
):
    role_require(created_by, Role.TCD)
    _validate_price(yearly_price)
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": _("Give the agreement's reference.")})
    if FrameworkAgreement.objects.filter(reference__iexact=reference).exists():
        raise ValidationError(
            {"reference": _("An agreement with this reference exists.")}
        )
    agreement = FrameworkAgreement.objects.create(
        contracting_authority=contracting_authority,
        reference=reference,
        yearly_price=yearly_price,
        starts_on=starts_on,
    )
    audit_record(
        action="framework_agreement.created",
        actor=created_by,
        subject=agreement,
        summary=Summary(
            "%(reference)s: %(price)s EUR a year per access from %(date)s",
            reference=reference,
            price=yearly_price,
            date=starts_on,
        ),
        client_address=client_address,
        data={"yearly_price": str(yearly_price), "starts_on": starts_on.isoformat()},
    )
    return agreement


@transaction.atomic
def price_amendment_add(
    *, agreement, reference, yearly_price, applies_from, created_by, client_address=None
):
    """Record an agreed change of price, applying to periods from that day on."""
    role_require(created_by, Role.TCD)
    _validate_price(yearly_price)
    errors = {}
    reference = (reference or "").strip()
    if not reference:
        errors["reference"] = _("Give the amendment's reference.")
    if applies_from <= agreement.starts_on:
        errors["applies_from"] = _(
            "An amendment applies after the agreement starts (%(date)s)."
        ) % {"date": date_format(agreement.starts_on)}
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            amendment = PriceAmendment.objects.create(
                agreement=agreement,
                reference=reference,
                yearly_price=yearly_price,
                applies_from=applies_from,
            )
    except IntegrityError as error:
        raise ValidationError(
            {
                "applies_from": _(
                    "Another amendment of this agreement applies from that day."
                )
            }
        ) from error
    audit_record(
        action="price_amendment.added",
        actor=created_by,
        subject=amendment,
        summary=Summary(
            "%(reference)s: %(price)s EUR a year per access from %(date)s",
            reference=reference,
            price=yearly_price,
            date=applies_from,
        ),
        client_address=client_address,
        data={
            "yearly_price": str(yearly_price),
            "applies_from": applies_from.isoformat(),
        },
    )
    return amendment
