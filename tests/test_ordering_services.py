"""The five steps of the ordering procedure, through their services."""

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import translation
from stdnum.be import ogm_vcs

from audit.models import AuditEntry
from invoicing import services as invoicing_services
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import invoice_issue, periods_to_invoice
from notifications.models import OutgoingEmail
from orders.models import AccessRequest, AccessRequestStatus, OrderForm, OrderLine
from orders.services import (
    MAXIMUM_QUANTITY,
    access_request_issue_order_form,
    access_request_refuse,
    access_request_submit,
    order_form_submit,
)
from subscriptions.models import (
    AccessLevel,
    IcmsAccount,
    Subscription,
    SubscriptionPeriod,
)
from subscriptions.periods import BRUSSELS
from subscriptions.services import icms_account_create

from . import factories
from .factories import billing_details, order_line

pytestmark = pytest.mark.django_db

WRITTEN_BY_THE_PROCEDURE = [
    AccessRequest,
    OrderForm,
    OrderLine,
    IcmsAccount,
    Subscription,
    SubscriptionPeriod,
    Invoice,
    InvoiceLine,
    OutgoingEmail,
    AuditEntry,
]


@contextmanager
def nothing_written():
    """Assert that the block adds no row of the procedure, email or audit entry."""

    def counts():
        return {
            model.__name__: model.objects.count() for model in WRITTEN_BY_THE_PROCEDURE
        }

    before = counts()
    yield
    assert counts() == before


def brussels(*moment):
    """Stop the clock at a moment in Brussels."""
    return time_machine.travel(datetime(*moment, tzinfo=BRUSSELS), tick=False)


def submit(order_form, admin, *, lines=None, billing=None, conditions_accepted=True):
    return order_form_submit(
        order_form=order_form,
        submitted_by=admin,
        lines=[order_line(1)] if lines is None else lines,
        billing=billing_details(admin.organisation) if billing is None else billing,
        conditions_accepted=conditions_accepted,
    )


class TestAccessRequestSubmit:
    @pytest.mark.parametrize("quantity", [0, -3, None])
    def test_it_asks_for_at_least_one_access(self, admin_a, quantity):
        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_submit(
                requested_by=admin_a, quantity=quantity, motivation="Nieuwe dienst."
            )

        assert raised.value.message_dict == {
            "quantity": ["Ask for at least one access."]
        }

    def test_it_refuses_more_accesses_than_one_request_may_hold(self, admin_a):
        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_submit(
                requested_by=admin_a,
                quantity=MAXIMUM_QUANTITY + 1,
                motivation="Nieuwe dienst.",
            )

        assert str(MAXIMUM_QUANTITY) in raised.value.message_dict["quantity"][0]

    @pytest.mark.parametrize("motivation", ["", "   \n ", None])
    def test_it_asks_why_the_accesses_are_needed(self, admin_a, motivation):
        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_submit(
                requested_by=admin_a, quantity=2, motivation=motivation
            )

        assert raised.value.message_dict == {
            "motivation": ["Say why the organisation needs these accesses."]
        }

    @pytest.mark.parametrize("persona", ["cell", "tcd"])
    def test_it_lets_only_an_organisation_admin_ask(self, request, persona):
        staff = request.getfixturevalue(persona)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_submit(requested_by=staff, quantity=2, motivation="Test.")

        assert raised.value.code == "wrong_role"

    def test_it_files_the_request_for_the_admins_organisation(self, admin_a):
        access_request = access_request_submit(
            requested_by=admin_a,
            quantity=3,
            motivation="  Drie extra officieren.  ",
            phone=" +32 9 266 00 00 ",
        )

        access_request.refresh_from_db()
        assert access_request.organisation == admin_a.organisation
        assert access_request.status == AccessRequestStatus.SUBMITTED
        assert access_request.quantity == 3
        assert access_request.motivation == "Drie extra officieren."
        assert access_request.requester_phone == "+32 9 266 00 00"


class TestDecision:
    @pytest.mark.parametrize("persona", ["admin_a", "tcd"])
    def test_it_lets_only_the_icms_cell_issue_an_order_form(self, request, persona):
        access_request = factories.submitted_access_request(
            admin=request.getfixturevalue("admin_a")
        )
        someone = request.getfixturevalue(persona)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_issue_order_form(
                access_request=access_request, decided_by=someone
            )

        assert raised.value.code == "wrong_role"

    @pytest.mark.parametrize("persona", ["admin_a", "tcd"])
    def test_it_lets_only_the_icms_cell_refuse(self, request, persona):
        access_request = factories.submitted_access_request(
            admin=request.getfixturevalue("admin_a")
        )
        someone = request.getfixturevalue(persona)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_refuse(
                access_request=access_request, decided_by=someone, reason="Nee."
            )

        assert raised.value.code == "wrong_role"

    def test_it_issues_one_order_form_per_request(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_issue_order_form(
                access_request=order_form.access_request, decided_by=cell
            )

        assert raised.value.code == "wrong_status"
        assert "“Order form to complete”" in raised.value.messages[0]

    def test_it_refuses_no_request_that_has_an_order_form(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_refuse(
                access_request=order_form.access_request,
                decided_by=cell,
                reason="Toch niet.",
            )

        assert raised.value.code == "wrong_status"
        access_request = AccessRequest.objects.get(pk=order_form.access_request_id)
        assert access_request.status == AccessRequestStatus.ORDER_FORM_ISSUED
        assert access_request.refusal_reason == ""

    def test_it_issues_no_order_form_for_a_refused_request(self, admin_a, cell):
        access_request = factories.refused_access_request(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_issue_order_form(
                access_request=access_request, decided_by=cell
            )

        assert raised.value.code == "wrong_status"
        assert "“Refused”" in raised.value.messages[0]

    @pytest.mark.parametrize("reason", ["", "  ", None])
    def test_it_asks_for_the_reason_of_a_refusal(self, admin_a, cell, reason):
        access_request = factories.submitted_access_request(admin=admin_a)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_refuse(
                access_request=access_request, decided_by=cell, reason=reason
            )

        assert list(raised.value.message_dict) == ["reason"]
        access_request.refresh_from_db()
        assert access_request.status == AccessRequestStatus.SUBMITTED

    def test_it_issues_no_order_form_for_zero_accesses(self, admin_a, cell):
        access_request = factories.submitted_access_request(admin=admin_a)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            access_request_issue_order_form(
                access_request=access_request, decided_by=cell, quantity=0
            )

        assert list(raised.value.message_dict) == ["quantity"]
        access_request.refresh_from_db()
        assert access_request.status == AccessRequestStatus.SUBMITTED

    def test_it_may_approve_fewer_accesses_than_asked(self, admin_a, cell):
        access_request = factories.submitted_access_request(admin=admin_a, quantity=5)

        order_form = access_request_issue_order_form(
            access_request=access_request, decided_by=cell, quantity=3
        )

        assert order_form.quantity == 3
        assert AccessRequest.objects.get(pk=access_request.pk).quantity == 5

    def test_it_keeps_the_reason_of_a_refusal(self, admin_a, cell):
        access_request = factories.refused_access_request(
            admin=admin_a, cell=cell, reason="  Geen hulpdienst.  "
        )

        access_request.refresh_from_db()
        assert access_request.status == AccessRequestStatus.REFUSED
        assert access_request.refusal_reason == "Geen hulpdienst."
        assert access_request.decided_by == cell


class TestOrderFormSubmit:
    def test_it_needs_at_least_one_person(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)
        blank = dict.fromkeys(("first_name", "last_name", "email"), "")

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, lines=[blank, {**blank, "function": " "}])

        [error] = raised.value.error_dict[NON_FIELD_ERRORS]
        assert error.code == "no_lines"
        assert "at least one person" in error.messages[0]

    def test_it_names_each_person_once_whatever_the_case(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)
        lines = [
            order_line(1, email="jan.janssens@gent.example.be"),
            order_line(2, email="Jan.Janssens@Gent.example.be"),
        ]

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, lines=lines)

        [message] = raised.value.message_dict["line-2"]
        assert "Jan.Janssens@Gent.example.be" in message
        assert "line 1" in message

    def test_it_asks_to_fill_every_field_of_a_line(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, lines=[order_line(1), order_line(2, email="")])

        assert list(raised.value.message_dict) == ["line-2"]

    def test_it_asks_to_confirm_every_billing_detail(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)
        billing = billing_details(admin_a.organisation, billing_city="  ")

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, billing=billing)

        assert raised.value.message_dict == {
            "billing_city": ["Confirm this billing detail."]
        }

    def test_it_refuses_an_invalid_vat_number_for_the_invoice(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)
        billing = billing_details(
            admin_a.organisation, billing_vat_number="BE0207451228"
        )

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, billing=billing)

        [message] = raised.value.message_dict["billing_vat_number"]
        assert "BE0207451228" in message

    def test_it_stores_the_vat_number_for_the_invoice_as_ten_digits(
        self, admin_a, cell
    ):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)
        billing = billing_details(
            admin_a.organisation, billing_vat_number="0207.451.227"
        )

        submit(order_form, admin_a, billing=billing)

        order_form.refresh_from_db()
        assert order_form.billing_vat_number == "BE0207451227"

    def test_it_needs_the_conditions_accepted(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, conditions_accepted=False)

        assert list(raised.value.message_dict) == ["conditions_accepted"]
        order_form.refresh_from_db()
        assert order_form.conditions_accepted_at is None

    def test_it_names_no_more_people_than_accesses_approved(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell, quantity=2)
        lines = [order_line(number) for number in (1, 2, 3)]

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, lines=lines)

        [error] = raised.value.error_dict[NON_FIELD_ERRORS]
        assert error.code == "too_many_lines"
        assert "2 accesses" in error.messages[0]
        assert "3 people" in error.messages[0]

    def test_it_reports_every_problem_at_once(self, admin_a, cell):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)
        billing = billing_details(admin_a.organisation, billing_email="")

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(
                order_form,
                admin_a,
                lines=[order_line(1), order_line(2, last_name="")],
                billing=billing,
                conditions_accepted=False,
            )

        assert set(raised.value.message_dict) == {
            "line-2",
            "billing_email",
            "conditions_accepted",
        }

    @pytest.mark.parametrize("persona", ["cell", "tcd"])
    def test_it_lets_only_an_organisation_admin_submit(self, request, persona):
        admin_a = request.getfixturevalue("admin_a")
        cell = request.getfixturevalue("cell")
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)
        someone = request.getfixturevalue(persona)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            order_form_submit(
                order_form=order_form,
                submitted_by=someone,
                lines=[order_line(1)],
                billing=billing_details(admin_a.organisation),
                conditions_accepted=True,
            )

        assert raised.value.code == "wrong_role"

    def test_it_keeps_another_organisation_off_the_order_form(
        self, admin_a, admin_b, cell
    ):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_b)

        assert "another organisation" in raised.value.messages[0]

    def test_it_takes_an_order_form_once(self, admin_a, cell):
        order_form = factories.submitted_order_form(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            submit(order_form, admin_a, lines=[order_line(9)])

        assert raised.value.code == "wrong_status"

    def test_it_skips_blank_lines_and_keeps_the_order_of_the_others(
        self, admin_a, cell
    ):
        order_form = factories.issued_order_form(admin=admin_a, cell=cell, quantity=3)
        blank = {"first_name": "", "last_name": "", "email": "", "function": ""}

        submit(
            order_form,
            admin_a,
            lines=[order_line(1), blank, order_line(3, training_included=True)],
        )

        assert [
            (line.position, line.email, line.training_included)
            for line in order_form.lines.all()
        ] == [
            (1, "jan.janssens1@zone.example.be", False),
            (2, "jan.janssens3@zone.example.be", True),
        ]


class TestIcmsAccountCreate:
    @pytest.mark.parametrize("persona", ["admin_a", "tcd"])
    def test_it_lets_only_the_icms_cell_create_accounts(self, request, persona):
        order_form = factories.submitted_order_form(
            admin=request.getfixturevalue("admin_a"),
            cell=request.getfixturevalue("cell"),
        )
        someone = request.getfixturevalue(persona)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            icms_account_create(
                order_line=order_form.lines.first(),
                username="jan.janssens",
                created_by=someone,
            )

        assert raised.value.code == "wrong_role"

    def test_it_creates_one_account_per_line(self, admin_a, cell):
        order_form = factories.submitted_order_form(admin=admin_a, cell=cell)
        line = order_form.lines.first()
        icms_account_create(order_line=line, username="jan.1", created_by=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            icms_account_create(order_line=line, username="jan.2", created_by=cell)

        assert raised.value.code == "already_created"

    def test_it_refuses_a_user_name_taken_in_another_case(self, admin_a, cell):
        first, second = factories.submitted_order_form(
            admin=admin_a, cell=cell
        ).lines.all()
        icms_account_create(order_line=first, username="gent.jan", created_by=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            icms_account_create(order_line=second, username="Gent.Jan", created_by=cell)

        assert "Gent.Jan" in raised.value.message_dict["username"][0]

    @pytest.mark.parametrize("username", ["", "j", ".jan", "jan janssens"])
    def test_it_refuses_a_user_name_icms_does_not_take(self, admin_a, cell, username):
        order_form = factories.submitted_order_form(admin=admin_a, cell=cell)

        with nothing_written(), pytest.raises(ValidationError) as raised:
            icms_account_create(
                order_line=order_form.lines.first(), username=username, created_by=cell
            )

        assert list(raised.value.message_dict) == ["username"]

    def test_it_starts_no_access_before_it_was_ordered(self, admin_a, cell):
        with brussels(2027, 2, 24, 11):
            order_form = factories.submitted_order_form(admin=admin_a, cell=cell)

            with nothing_written(), pytest.raises(ValidationError) as raised:
                icms_account_create(
                    order_line=order_form.lines.first(),
                    username="jan.janssens",
                    activation_date=date(2027, 2, 23),
                    created_by=cell,
                )

        assert list(raised.value.message_dict) == ["activation_date"]

    def test_it_starts_no_access_more_than_a_year_ahead(self, admin_a, cell):
        with brussels(2027, 2, 24, 11):
            order_form = factories.submitted_order_form(admin=admin_a, cell=cell)

            with nothing_written(), pytest.raises(ValidationError) as raised:
                icms_account_create(
                    order_line=order_form.lines.first(),
                    username="jan.janssens",
                    activation_date=date(2028, 2, 25),
                    created_by=cell,
                )

        assert list(raised.value.message_dict) == ["activation_date"]

    def test_it_creates_accounts_at_level_user_with_their_first_year(
        self, admin_a, cell
    ):
        with brussels(2027, 2, 24, 11):
            order_form = factories.submitted_order_form(admin=admin_a, cell=cell)
        line = order_form.lines.first()

        with brussels(2027, 3, 1, 8, 30):
            account = icms_account_create(
                order_line=line, username="jan.janssens", created_by=cell
            )

        account.refresh_from_db()
        assert account.level == AccessLevel.USER
        assert account.organisation == admin_a.organisation
        assert (account.holder_email, account.holder_name) == (
            line.email,
            line.full_name,
        )
        assert account.is_base_package is False
        assert account.subscription.activation_date == date(2027, 3, 1)
        [first] = account.subscription.periods.all()
        assert (first.index, first.start, first.end) == (
            0,
            date(2027, 3, 1),
            date(2028, 2, 29),
        )
        assert first.last_day_to_cancel == date(2028, 1, 15)

    def test_it_completes_the_request_with_its_last_account(self, admin_a, cell):
        order_form = factories.submitted_order_form(admin=admin_a, cell=cell)
        first, second = order_form.lines.all()

        icms_account_create(order_line=first, username="gent.een", created_by=cell)
        after_first = AccessRequest.objects.get(pk=order_form.access_request_id).status
        icms_account_create(order_line=second, username="gent.twee", created_by=cell)
        after_second = AccessRequest.objects.get(pk=order_form.access_request_id).status

        assert after_first == AccessRequestStatus.ORDER_FORM_SUBMITTED
        assert after_second == AccessRequestStatus.ACCOUNTS_CREATED


class TestInvoiceIssue:
    def test_it_lets_only_tcd_issue_an_invoice(self, admin_a, cell):
        access_request = factories.created_accounts(admin=admin_a, cell=cell)
        period_ids = [period.pk for period in periods_to_invoice()]

        with nothing_written(), pytest.raises(ValidationError) as raised:
            invoice_issue(
                organisation=access_request.organisation,
                period_ids=period_ids,
                issued_by=cell,
            )

        assert raised.value.code == "wrong_role"

    def test_it_needs_a_period_to_invoice(self, organisation_a, tcd):
        with nothing_written(), pytest.raises(ValidationError):
            invoice_issue(organisation=organisation_a, period_ids=[], issued_by=tcd)

    def test_it_keeps_each_organisation_on_its_own_invoice(
        self, admin_a, admin_b, cell, tcd
    ):
        factories.created_accounts(admin=admin_a, cell=cell, quantity=1)
        factories.created_accounts(admin=admin_b, cell=cell, quantity=1)
        period_ids = [period.pk for period in periods_to_invoice()]

        with nothing_written(), pytest.raises(ValidationError) as raised:
            invoice_issue(
                organisation=admin_a.organisation, period_ids=period_ids, issued_by=tcd
            )

        assert "belongs to its organisation" in raised.value.messages[0]

    def test_it_never_invoices_a_base_package_access(self, admin_a, cell, tcd):
        organisation = admin_a.organisation
        factories.created_accounts(admin=admin_a, cell=cell, quantity=1)
        base = factories.base_package_account(
            organisation=organisation, activation_date=date(2026, 1, 1)
        )
        base_period = base.subscription.periods.get()

        assert base_period not in periods_to_invoice()
        assert periods_to_invoice().count() == 1
        with nothing_written(), pytest.raises(ValidationError) as raised:
            invoice_issue(
                organisation=organisation,
                period_ids=[base_period.pk],
                issued_by=tcd,
            )
        assert raised.value.code == "stale_selection"

    def test_it_invoices_a_period_once(self, admin_a, cell, tcd):
        factories.created_accounts(admin=admin_a, cell=cell)
        period_ids = [period.pk for period in periods_to_invoice()]
        invoice_issue(
            organisation=admin_a.organisation, period_ids=period_ids, issued_by=tcd
        )

        assert list(periods_to_invoice()) == []
        with nothing_written(), pytest.raises(ValidationError) as raised:
            invoice_issue(
                organisation=admin_a.organisation,
                period_ids=period_ids[:1],
                issued_by=tcd,
            )
        assert raised.value.code == "stale_selection"

    def test_it_invoices_no_period_that_has_not_begun(self, admin_a, cell, tcd):
        with brussels(2027, 2, 24, 11):
            factories.created_accounts(
                admin=admin_a, cell=cell, quantity=1, activation_date=date(2027, 4, 1)
            )
            future = SubscriptionPeriod.objects.get()

            assert list(periods_to_invoice()) == []
            with nothing_written(), pytest.raises(ValidationError) as raised:
                invoice_issue(
                    organisation=admin_a.organisation,
                    period_ids=[future.pk],
                    issued_by=tcd,
                )

        assert raised.value.code == "stale_selection"
        with brussels(2027, 4, 1, 9):
            assert list(periods_to_invoice()) == [future]

    def test_it_invoices_each_period_at_the_price_in_force_with_21_percent_vat(
        self, admin_a, cell, tcd
    ):
        with brussels(2027, 2, 24, 11):
            access_request = factories.created_accounts(
                admin=admin_a, cell=cell, quantity=3, activation_date=date(2027, 3, 1)
            )
        order_form = OrderForm.objects.get(access_request=access_request)

        with brussels(2027, 3, 2, 14):
            periods = list(periods_to_invoice())
            invoice = invoice_issue(
                organisation=admin_a.organisation,
                period_ids=[period.pk for period in periods],
                issued_by=tcd,
            )

        invoice.refresh_from_db()
        lines = list(invoice.lines.all())
        assert [line.period for line in lines] == periods
        assert {
            (line.service_start, line.service_end, line.unit_price, line.vat_rate)
            for line in lines
        } == {(date(2027, 3, 1), date(2028, 2, 29), Decimal("120.00"), Decimal(21))}
        # 3 x 120.00 = 360.00; 21% of it is 75.60.
        assert invoice.net_total == Decimal("360.00")
        assert invoice.vat_total == Decimal("75.60")
        assert invoice.gross_total == Decimal("435.60")
        assert invoice.number == "INV-2027-000001"
        assert invoice.issue_date == date(2027, 3, 2)
        assert invoice.due_date == date(2027, 4, 1)
        assert ogm_vcs.is_valid(invoice.structured_communication)
        assert invoice.order_form_reference == order_form.reference
        assert (invoice.customer_name, invoice.customer_enterprise_number) == (
            "Stad Gent",
            "0207451227",
        )

    def test_it_describes_the_lines_in_the_customers_language(
        self, monkeypatch, admin_b, cell, tcd
    ):
        factories.created_accounts(admin=admin_b, cell=cell, quantity=1)
        # No catalogue is needed to see in which language a line is written.
        monkeypatch.setattr(
            invoicing_services,
            "_",
            lambda message: f"[{translation.get_language()}] {message}",
        )

        with translation.override("en"):
            invoice = invoice_issue(
                organisation=admin_b.organisation,
                period_ids=[period.pk for period in periods_to_invoice()],
                issued_by=tcd,
            )

        [line] = invoice.lines.all()
        assert line.description.startswith("[fr] ICMS access ")


class TestEmails:
    def test_it_tells_the_icms_cell_of_a_new_request(
        self, admin_a, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            access_request = factories.submitted_access_request(admin=admin_a)

        email = OutgoingEmail.objects.get(template="access_request_submitted")
        assert email.to == [settings.ICMS_CELL_MAILBOX]
        assert email.language == settings.MAILBOX_LANGUAGE
        assert email.key == f"access_request.submitted:{access_request.pk}"
        [message] = mail.outbox
        assert message.to == [settings.ICMS_CELL_MAILBOX]
        assert message.subject == email.subject

    def test_it_sends_the_order_form_to_every_active_admin_in_their_language(
        self, admin_b, cell, django_capture_on_commit_callbacks
    ):
        colleague = factories.OrganisationAdminFactory(
            email="marie.lambert@liege.example.be", organisation=admin_b.organisation
        )
        factories.OrganisationAdminFactory(
            email="ancien.agent@liege.example.be",
            organisation=admin_b.organisation,
            is_active=False,
        )
        factories.OrganisationAdminFactory(email="an.ander@stad.gent.example.be")

        with django_capture_on_commit_callbacks(execute=True):
            factories.issued_order_form(admin=admin_b, cell=cell)

        email = OutgoingEmail.objects.get(template="order_form_issued")
        assert email.to == sorted([admin_b.email, colleague.email])
        assert email.language == "fr"
        assert mail.outbox[-1].to == email.to

    def test_it_tells_the_admins_why_a_request_was_refused(
        self, admin_a, cell, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            factories.refused_access_request(admin=admin_a, cell=cell)

        email = OutgoingEmail.objects.get(template="access_request_refused")
        assert (email.to, email.language) == ([admin_a.email], "nl")
        assert mail.outbox[-1].to == [admin_a.email]

    def test_it_sends_the_completed_order_form_to_both_mailboxes_with_its_pdf(
        self, admin_a, cell, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            order_form = factories.submitted_order_form(admin=admin_a, cell=cell)

        email = OutgoingEmail.objects.get(template="order_form_submitted")
        assert email.to == sorted([settings.ICMS_CELL_MAILBOX, settings.TCD_MAILBOX])
        assert email.attachments == [{"kind": "order_form_pdf", "id": order_form.pk}]
        message = mail.outbox[-1]
        assert sorted(message.to) == email.to
        [(filename, content, mimetype)] = message.attachments
        assert filename == f"{order_form.reference}.pdf"
        assert mimetype == "application/pdf"
        assert content.startswith(b"%PDF")

    def test_it_tells_the_admins_once_every_account_exists(
        self, admin_a, cell, django_capture_on_commit_callbacks
    ):
        order_form = factories.submitted_order_form(admin=admin_a, cell=cell)
        first, second = order_form.lines.all()

        with django_capture_on_commit_callbacks(execute=True):
            icms_account_create(order_line=first, username="gent.een", created_by=cell)
        assert not OutgoingEmail.objects.filter(template="accounts_created").exists()
        with django_capture_on_commit_callbacks(execute=True):
            icms_account_create(
                order_line=second, username="gent.twee", created_by=cell
            )

        email = OutgoingEmail.objects.get(template="accounts_created")
        assert (email.to, email.language) == ([admin_a.email], "nl")
        assert mail.outbox[-1].to == [admin_a.email]

    def test_it_sends_the_invoice_to_the_billing_address_with_its_documents(
        self, admin_a, cell, tcd, django_capture_on_commit_callbacks
    ):
        factories.created_accounts(admin=admin_a, cell=cell)

        with django_capture_on_commit_callbacks(execute=True):
            invoice = invoice_issue(
                organisation=admin_a.organisation,
                period_ids=[period.pk for period in periods_to_invoice()],
                issued_by=tcd,
            )

        email = OutgoingEmail.objects.get(template="invoice_issued")
        assert (email.to, email.language) == (["facturen@stad.gent.example.be"], "nl")
        message = mail.outbox[-1]
        [pdf, ubl] = message.attachments
        assert (pdf[0], pdf[2]) == (f"{invoice.number}.pdf", "application/pdf")
        assert pdf[1].startswith(b"%PDF")
        assert (ubl[0], ubl[2]) == (f"{invoice.number}.xml", "application/xml")
        assert ubl[1].startswith(b"<?xml")

    def test_it_sends_nothing_before_the_transaction_commits(self, admin_a):
        factories.submitted_access_request(admin=admin_a)

        assert OutgoingEmail.objects.filter(
            template="access_request_submitted"
        ).exists()
        assert mail.outbox == []

    def test_it_sends_nothing_for_a_step_rolled_back(
        self, admin_a, cell, django_capture_on_commit_callbacks
    ):
        access_request = factories.submitted_access_request(admin=admin_a)
        emails_before = OutgoingEmail.objects.count()

        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            access_request_issue_order_form(
                access_request=access_request, decided_by=cell
            )
            raise RuntimeError("The request was interrupted.")

        assert callbacks == []
        assert mail.outbox == []
        assert OutgoingEmail.objects.count() == emails_before
        access_request.refresh_from_db()
        assert access_request.status == AccessRequestStatus.SUBMITTED
        assert not OrderForm.objects.exists()


def test_it_records_who_did_each_step_and_when(admin_a, cell, tcd):
    with brussels(2027, 2, 22, 9):
        access_request = factories.submitted_access_request(admin=admin_a)
    with brussels(2027, 2, 23, 10):
        order_form = access_request_issue_order_form(
            access_request=access_request, decided_by=cell
        )
    with brussels(2027, 2, 24, 11):
        submit(order_form, admin_a, lines=[order_line(1), order_line(2)])
    first, second = order_form.lines.all()
    with brussels(2027, 3, 1, 8, 30):
        icms_account_create(order_line=first, username="gent.een", created_by=cell)
    with brussels(2027, 3, 1, 8, 45):
        icms_account_create(order_line=second, username="gent.twee", created_by=cell)
    with brussels(2027, 3, 2, 14):
        invoice_issue(
            organisation=admin_a.organisation,
            period_ids=[period.pk for period in periods_to_invoice()],
            issued_by=tcd,
        )

    timeline = [
        (entry.action, entry.actor, entry.actor_label, entry.at)
        for entry in access_request.audit_entries.all()
    ]

    def at(*moment):
        return datetime(*moment, tzinfo=BRUSSELS)

    assert timeline == [
        ("access_request.submitted", admin_a, admin_a.email, at(2027, 2, 22, 9)),
        ("order_form.issued", cell, cell.email, at(2027, 2, 23, 10)),
        ("order_form.submitted", admin_a, admin_a.email, at(2027, 2, 24, 11)),
        ("icms_account.created", cell, cell.email, at(2027, 3, 1, 8, 30)),
        ("icms_account.created", cell, cell.email, at(2027, 3, 1, 8, 45)),
        ("access_request.completed", cell, cell.email, at(2027, 3, 1, 8, 45)),
        ("invoice.issued", tcd, tcd.email, at(2027, 3, 2, 14)),
    ]
    assert all(
        entry.organisation == admin_a.organisation
        for entry in access_request.audit_entries.all()
    )


def test_it_records_a_refusal_with_its_reason(admin_a, cell):
    access_request = factories.refused_access_request(
        admin=admin_a, cell=cell, reason="Geen hulpdienst."
    )

    entry = access_request.audit_entries.get(action="access_request.refused")
    assert entry.actor == cell
    assert "Geen hulpdienst." in entry.summary
