"""The pages as people use them: bad input, what each page lists, language.

A message is looked for beside the field it concerns, in the language of the
person who reads it, so these tests hold once the catalogues are translated.
"""

import itertools
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import gettext

from audit.models import AuditEntry
from invoicing.services import invoice_issue, periods_to_invoice
from orders.models import AccessRequest, AccessRequestStatus, OrderForm, OrderLine
from subscriptions.inbound import inbound_email_store_unparseable
from subscriptions.models import ClosureReason, IcmsAccount
from subscriptions.services import icms_account_create, subscription_close

from . import factories

BRUSSELS = ZoneInfo("Europe/Brussels")
DUTCH_CATALOGUE = settings.BASE_DIR / "locale" / "nl" / "LC_MESSAGES" / "django.mo"


def said_to(user, message, **params):
    """``message`` as ``user`` reads it: in the language of their profile."""
    with translation.override(user.language):
        text = gettext(message)
    return text % params if params else text


def page(response):
    return lxml.html.fromstring(response.content.decode())


def errors_beside(response, name):
    """The error messages shown in the block of the field named ``name``."""
    blocks = page(response).xpath(
        f'//div[contains(@class, "field")][.//*[@name="{name}"]]'
    )
    assert len(blocks) == 1, f"the page has no single field {name}"
    return [
        error.text_content().strip()
        for error in blocks[0].xpath('.//*[@class="error"]')
    ]


def errors_atop(response):
    """The messages of a whole form, shown above its fields."""
    return [
        error.text_content().strip()
        for error in page(response).xpath('//div[@class="errors"]//p')
    ]


def alerts(response):
    return [
        alert.text_content().strip()
        for alert in page(response).xpath('//*[@role="alert" or @role="status"]')
    ]


# The request for additional accesses.


@pytest.fixture
def request_new(client, admin_a):
    client.force_login(admin_a)

    def post(**values):
        data = {"quantity": "2", "motivation": "Twee extra officieren.", **values}
        return client.post(reverse("orders:request_new"), data)

    return post


@pytest.mark.parametrize("quantity", ["0", "-3"])
def test_it_asks_for_at_least_one_access(request_new, admin_a, quantity):
    response = request_new(quantity=quantity)

    assert response.status_code == 200
    assert errors_beside(response, "quantity") == [
        said_to(admin_a, "Ask for at least one access.")
    ]
    assert not AccessRequest.objects.exists()


def test_it_asks_for_a_number_of_accesses_in_digits(request_new, admin_a):
    response = request_new(quantity="twee")

    assert errors_beside(response, "quantity") == [
        said_to(admin_a, "Enter a whole number.")
    ]
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("motivation", ["", "   \n "])
def test_it_asks_for_a_motivation(request_new, admin_a, motivation):
    response = request_new(motivation=motivation)

    assert errors_beside(response, "motivation") == [
        said_to(admin_a, "Say why the organisation needs these accesses.")
    ]
    assert not AccessRequest.objects.exists()


# The order form the organisation completes.


def order_form_data(organisation, lines, conditions_accepted=True, **billing):
    """The POST of the order form page: the people, then the billing details."""
    data = {
        "line-TOTAL_FORMS": str(len(lines)),
        "line-INITIAL_FORMS": str(len(lines)),
        **factories.billing_details(organisation, **billing),
    }
    if conditions_accepted:
        data["conditions_accepted"] = "on"
    for index, line in enumerate(lines):
        for field, value in line.items():
            if field == "training_included":
                if value:
                    data[f"line-{index}-{field}"] = "on"
            else:
                data[f"line-{index}-{field}"] = value
    return data


@pytest.fixture
def order_form(admin_a, cell):
    return factories.issued_order_form(admin=admin_a, cell=cell, quantity=2)


@pytest.fixture
def complete(client, admin_a, order_form):
    client.force_login(admin_a)
    url = reverse(
        "orders:order_form_complete", kwargs={"pk": order_form.access_request_id}
    )

    def post(lines, **values):
        return client.post(url, order_form_data(admin_a.organisation, lines, **values))

    return post


def assert_order_form_untouched(order_form):
    order_form.refresh_from_db()
    assert order_form.submitted_at is None
    assert order_form.billing_name == ""
    assert not OrderLine.objects.exists()
    assert order_form.access_request.status == AccessRequestStatus.ORDER_FORM_ISSUED


def test_it_asks_for_at_least_one_person(complete, admin_a, order_form):
    response = complete([{}, {}])

    assert response.status_code == 200
    assert errors_atop(response) == [
        said_to(
            admin_a,
            "Name at least one person: an order form needs one line per access.",
        )
    ]
    assert_order_form_untouched(order_form)


def test_it_refuses_the_same_person_twice(complete, admin_a, order_form):
    response = complete(
        [
            factories.order_line(1, email="jan.janssens@zone.example.be"),
            factories.order_line(2, email="Jan.Janssens@Zone.Example.be"),
        ]
    )

    rows = page(response).xpath('//tr[@class="line-errors"]')
    assert len(rows) == 1
    assert rows[0].getprevious().xpath("td")[0].text_content() == "2"
    assert rows[0].text_content().strip() == said_to(
        admin_a,
        "Line %(number)s: %(email)s is already on line %(first)s; "
        "each person holds one access.",
        number=2,
        email="Jan.Janssens@Zone.Example.be",
        first=1,
    )
    assert_order_form_untouched(order_form)


def test_it_asks_for_every_billing_detail(complete, admin_a, order_form):
    response = complete([factories.order_line(1)], billing_city="")

    assert errors_beside(response, "billing_city") == [
        said_to(admin_a, "This field is required.")
    ]
    assert_order_form_untouched(order_form)


def test_it_asks_to_accept_the_conditions(complete, admin_a, order_form):
    response = complete([factories.order_line(1)], conditions_accepted=False)

    assert errors_beside(response, "conditions_accepted") == [
        said_to(admin_a, "Accept the conditions of use to submit the order form.")
    ]
    assert_order_form_untouched(order_form)


# The ICMS cell's decision and accounts.


@pytest.fixture
def cell_page(client, cell):
    client.force_login(cell)

    def post(access_request, data):
        url = reverse("orders:cell_request", kwargs={"pk": access_request.pk})
        return client.post(url, data)

    return post


ISSUE = {"action": "decide", "decision": "issue", "quantity": "2"}
REFUSE = {"action": "decide", "decision": "refuse", "reason": "Geen hulpdienst."}


@pytest.mark.parametrize("second", [ISSUE, REFUSE], ids=["issue", "refuse"])
def test_it_keeps_the_first_decision(cell_page, cell, admin_a, second):
    access_request = factories.submitted_access_request(admin=admin_a)
    assert cell_page(access_request, ISSUE).status_code == 302
    decided = AccessRequest.objects.get(pk=access_request.pk)
    entries = AuditEntry.objects.count()

    response = cell_page(access_request, second)

    assert response.status_code == 200
    with translation.override(cell.language):
        status = str(AccessRequestStatus.ORDER_FORM_ISSUED.label)
    assert said_to(
        cell,
        "This step is no longer possible: the request's status is “%(status)s”.",
        status=status,
    ) in alerts(response)
    again = AccessRequest.objects.get(pk=access_request.pk)
    assert (again.status, again.decided_at, again.refusal_reason) == (
        decided.status,
        decided.decided_at,
        "",
    )
    assert OrderForm.objects.count() == 1
    assert AuditEntry.objects.count() == entries


def test_it_asks_for_the_reason_of_a_refusal(cell_page, cell, admin_a):
    access_request = factories.submitted_access_request(admin=admin_a)

    response = cell_page(access_request, {**REFUSE, "reason": "  "})

    assert errors_beside(response, "reason") == [
        said_to(cell, "Give the reason for the refusal; the organisation will read it.")
    ]
    access_request.refresh_from_db()
    assert access_request.status == AccessRequestStatus.SUBMITTED


def account_data(line, username, activation_date):
    return {
        "action": f"create_account:{line.pk}",
        f"line-{line.pk}-username": username,
        f"line-{line.pk}-activation_date": activation_date.isoformat(),
    }


def test_it_refuses_an_icms_user_name_already_taken(cell_page, cell, admin_a, admin_b):
    taken = factories.submitted_order_form(admin=admin_b, cell=cell, quantity=1)
    icms_account_create(
        order_line=taken.lines.get(), username="jan.janssens", created_by=cell
    )
    order_form = factories.submitted_order_form(admin=admin_a, cell=cell, quantity=1)
    line = order_form.lines.get()

    response = cell_page(
        order_form.access_request,
        account_data(line, "Jan.Janssens", timezone.localdate()),
    )

    assert errors_beside(response, f"line-{line.pk}-username") == [
        said_to(
            cell,
            "The ICMS user name %(username)s is already taken.",
            username="Jan.Janssens",
        )
    ]
    assert not IcmsAccount.objects.filter(order_line=line).exists()


def test_it_refuses_an_activation_before_the_order(cell_page, cell, admin_a):
    order_form = factories.submitted_order_form(admin=admin_a, cell=cell, quantity=1)
    line = order_form.lines.get()
    ordered_on = timezone.localdate(order_form.submitted_at)

    response = cell_page(
        order_form.access_request,
        account_data(line, "jan.janssens", ordered_on - timedelta(days=1)),
    )

    with translation.override(cell.language):
        ordered = date_format(ordered_on)
    assert errors_beside(response, f"line-{line.pk}-activation_date") == [
        said_to(
            cell,
            "An access cannot start before it was ordered (%(date)s).",
            date=ordered,
        )
    ]
    assert not IcmsAccount.objects.exists()


# What the pages show.


def test_it_queues_open_requests_oldest_first_with_their_wait(
    client, cell, admin_a, admin_b, time_machine
):
    now = datetime(2026, 3, 10, 9, 30, tzinfo=BRUSSELS)
    submitted = {}
    for name, admin, waited in [
        ("recent", admin_a, timedelta(hours=5)),
        ("oldest", admin_b, timedelta(days=3, hours=1)),
        ("middle", admin_a, timedelta(days=1, hours=2)),
    ]:
        time_machine.move_to(now - waited, tick=False)
        submitted[name] = factories.submitted_access_request(admin=admin)
    time_machine.move_to(now - timedelta(days=9), tick=False)
    factories.refused_access_request(admin=admin_b, cell=cell)
    time_machine.move_to(now, tick=False)
    client.force_login(cell)

    response = client.get(reverse("orders:cell_queue"))

    queue = page(response).xpath("//table[1]/tbody/tr")
    with translation.override(cell.language):
        expected = [
            (access_request.reference, timesince(access_request.submitted_at, now))
            for access_request in (
                submitted["oldest"],
                submitted["middle"],
                submitted["recent"],
            )
        ]
    assert [
        (row.xpath("td[1]")[0].text_content(), row.xpath("td[5]")[0].text_content())
        for row in queue
    ] == expected


def test_it_shows_the_organisation_why_its_request_was_refused(client, admin_a, cell):
    reason = "Deze dienst valt niet onder het spreidingsplan.\nVraag het aan de zone."
    access_request = factories.refused_access_request(
        admin=admin_a, cell=cell, reason=reason
    )
    client.force_login(admin_a)

    response = client.get(
        reverse("orders:request_detail", kwargs={"pk": access_request.pk})
    )

    refusal = page(response).xpath('//dd[@class="refusal"]')[0]
    assert refusal.text_content() == reason.replace("\n", "")
    assert len(refusal.xpath("br")) == 1


def test_it_shows_who_did_each_step(client, admin_a, cell):
    # Taken by people who read Dutch, shown to one who reads English.
    access_request = factories.created_accounts(admin=admin_a, cell=cell, quantity=2)
    order_form = access_request.order_form
    admin_a.language = "en"
    admin_a.save(update_fields=["language"])
    client.force_login(admin_a)

    response = client.get(
        reverse("orders:request_detail", kwargs={"pk": access_request.pk})
    )

    steps = [
        (step.xpath("strong")[0].text_content(), step.xpath("span")[0].text_content())
        for step in page(response).xpath('//ol[@class="timeline"]/li')
    ]
    organisation = admin_a.organisation
    with translation.override("en"):
        today = date_format(timezone.localdate())
    assert steps == [
        ("Asked for 2 additional accesses.", "An Peeters"),
        (f"Order form {order_form.reference} issued for 2 accesses.", "Sofie Maes"),
        (f"Order form {order_form.reference} completed with 2 people.", "An Peeters"),
        (
            f"ICMS account {organisation.pk}.jan.janssens1 for Jan Janssens 1, "
            f"active from {today}.",
            "Sofie Maes",
        ),
        (
            f"ICMS account {organisation.pk}.jan.janssens2 for Jan Janssens 2, "
            f"active from {today}.",
            "Sofie Maes",
        ),
        ("All 2 accounts created.", "Sofie Maes"),
    ]


# A list page costs the same number of queries whatever its length.

_numbers = itertools.count(1)


def _account(admin, cell):
    number = next(_numbers)
    order_form = factories.submitted_order_form(
        admin=admin, cell=cell, quantity=1, lines=[factories.order_line(number)]
    )
    return icms_account_create(
        order_line=order_form.lines.get(),
        username=f"gebruiker.{number}",
        created_by=cell,
    )


def _another_admin():
    return factories.OrganisationAdminFactory()


def _request_row(people):
    factories.submitted_access_request(admin=people["admin_a"])


def _any_request_row(people):
    factories.submitted_access_request(admin=_another_admin())


def _order_form_row(people):
    factories.submitted_order_form(admin=_another_admin(), cell=people["cell"])


def _own_account_row(people):
    _account(people["admin_a"], people["cell"])


def _any_account_row(people):
    _account(_another_admin(), people["cell"])


def _invoice_row(people):
    account = _account(people["admin_a"], people["cell"])
    invoice_issue(
        organisation=account.organisation,
        period_ids=[
            period.pk
            for period in periods_to_invoice().filter(subscription__account=account)
        ],
        issued_by=people["tcd"],
    )


def _removal_row(people):
    account = _account(_another_admin(), people["cell"])
    subscription_close(
        subscription=account.subscription,
        closed_by=people["tcd"],
        reason=ClosureReason.SECURITY_RISK,
    )


def _inbound_row(people):
    number = next(_numbers)
    inbound_email_store_unparseable(
        message_id=f"<{number}@zone.example.be>",
        received_at=timezone.now(),
        sender=f"beheerder{number}@zone.example.be",
        subject="Opzegging",
        raw="?",
    )


LIST_PAGES = [
    ("orders:request_list", "admin_a", _request_row),
    ("orders:request_list", "cell", _any_request_row),
    ("orders:cell_queue", "cell", _any_request_row),
    ("orders:cell_queue", "cell", _order_form_row),
    ("orders:tcd_workbench", "tcd", _order_form_row),
    ("subscriptions:access_list", "admin_a", _own_account_row),
    ("subscriptions:access_list", "tcd", _any_account_row),
    ("subscriptions:removals", "cell", _removal_row),
    ("subscriptions:inbound_review", "tcd", _inbound_row),
    ("invoicing:invoice_list", "admin_a", _invoice_row),
    ("invoicing:invoice_list", "tcd", _invoice_row),
    ("invoicing:queue", "tcd", _any_account_row),
    ("orders:tcd_workbench", "tcd", _any_account_row),
]


@pytest.mark.parametrize(
    ("view_name", "visitor", "add_row"),
    LIST_PAGES,
    ids=[f"{name}-{visitor}-{add.__name__[1:]}" for name, visitor, add in LIST_PAGES],
)
def test_it_lists_five_rows_in_as_many_queries_as_one(
    client, admin_a, cell, tcd, view_name, visitor, add_row
):
    people = {"admin_a": admin_a, "cell": cell, "tcd": tcd}
    client.force_login(people[visitor])
    url = reverse(view_name)

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    add_row(people)
    for_one = queries()
    for _ in range(4):
        add_row(people)
    for_five = queries()

    assert for_five == for_one


# Logging in, and the language of the pages.


def test_it_logs_in_by_email_without_regard_to_case(client, admin_a):
    response = client.post(
        reverse("accounts:login"),
        {"username": "An.Peeters@STAD.Gent.example.be", "password": factories.PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(admin_a.pk)


def test_it_says_when_email_and_password_do_not_match(client, admin_a):
    response = client.post(
        reverse("accounts:login"),
        {"username": admin_a.email, "password": "Zonnebloem-Schelde-2025"},
    )

    assert response.status_code == 200
    assert errors_atop(response) == [
        "This email address and password do not match an account."
    ]
    assert "_auth_user_id" not in client.session


def test_it_speaks_dutch_to_a_dutch_speaking_admin(client, admin_a):
    assert admin_a.language == "nl"
    client.force_login(admin_a)

    response = client.get(reverse("orders:request_list"))

    html = page(response)
    assert html.get("lang") == "nl"
    if not os.path.exists(DUTCH_CATALOGUE):
        pytest.skip("locale/nl has no compiled django.mo yet")
    with translation.override("nl"):
        heading = gettext("Access requests")
    assert heading != "Access requests"
    assert html.xpath("//h1")[0].text_content() == heading


def test_it_shows_the_timeline_in_the_readers_language(client, admin_a, cell):
    with translation.override("en"):
        access_request = factories.created_accounts(
            admin=admin_a, cell=cell, quantity=1
        )
    client.force_login(admin_a)

    response = client.get(
        reverse("orders:request_detail", kwargs={"pk": access_request.pk})
    )

    steps = [
        step.xpath("strong")[0].text_content()
        for step in page(response).xpath('//ol[@class="timeline"]/li')
    ]
    with translation.override("nl"):
        today = date_format(timezone.localdate())
    username = f"{admin_a.organisation.pk}.jan.janssens1"
    assert (
        f"ICMS-account {username} voor Jan Janssens 1, actief vanaf {today}." in steps
    )
