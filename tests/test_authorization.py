"""Who gets which answer on every URL of the portal.

Each table row is one URL; its columns are the five visitors, in the order of
``VISITORS``. A URL added to the project without a row here fails
``test_it_has_an_expectation_for_every_url``.
"""

import base64
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

from accounts.models import SuspiciousReport, User
from audit.models import AuditEntry
from invoicing.models import (
    BankImportLine,
    ContractingAuthority,
    Invoice,
    InvoiceRun,
    Payment,
)
from invoicing.payments import bank_import_upload
from invoicing.runs import invoice_run_draft
from invoicing.services import invoice_issue, periods_to_invoice
from orders.models import AccessRequest, AccessRequestStatus, OrderLine
from subscriptions.inbound import inbound_email_store_unparseable
from subscriptions.models import (
    CancellationChannel,
    ClosureReason,
    IcmsAccount,
    InboundEmail,
)
from subscriptions.services import subscription_cancel, subscription_close

from . import factories

pytestmark = pytest.mark.django_db

VISITORS = ("anonymous", "admin_a", "admin_b", "cell", "tcd")

# Only the root of Django admin is checked, by the two tests at the end.
SKIPPED_PREFIXES = ("django-admin/", "i18n/")


@dataclass(frozen=True)
class To:
    """A redirect to the named view, with the same pk as the URL asked for."""

    view_name: str
    # False when the POST creates the object it redirects to.
    same_pk: bool = True


LOGIN = "302 to the login page"
# A POST that did what it is for; the endpoint's row says where it redirects.
DONE = "done"

HOME = To("home")
REQUESTS = To("orders:request_list")
QUEUE = To("orders:cell_queue")
BENCH = To("orders:tcd_workbench")
DETAIL = To("orders:request_detail")
SECURITY = To("accounts:security")
# A sensitive change first asks for the password and a code again.
AGAIN = To("accounts:reauthenticate")

# The states an object of organisation A is brought to for OBJECT_PAGES: an
# access request at each of its statuses, an invoice, an ICMS account.
REQUEST_STATES = tuple(AccessRequestStatus.values)
INVOICE = "issued invoice"
ACTIVE = "active account"
CANCELLED = "cancelled account"
CLOSED = "closed account"
DRAFT_RUN = "draft invoice run"
BANK_IMPORT = "bank statement with a credit to settle"
STATEMENT = b"date;amount;communication\r\n2026-01-05;50,00;Voorschot\r\n"

# fmt: off
PAGES = {
    #                                  anonymous admin_a admin_b  cell   tcd
    "home":                            (LOGIN, REQUESTS, REQUESTS, QUEUE, BENCH),
    "accounts:login":                  (200,   HOME,     HOME,     HOME,  HOME),
    "accounts:logout":                 (405,   405,      405,      405,   405),
    "accounts:profile":                (LOGIN, 200,      200,      200,   200),
    "orders:request_list":             (LOGIN, 200,      200,      200,   200),
    "orders:request_new":              (LOGIN, 200,      200,      403,   403),
    "orders:cell_queue":               (LOGIN, 403,      403,      200,   403),
    "orders:tcd_workbench":            (LOGIN, 403,      403,      403,   200),
    "subscriptions:access_list":       (LOGIN, 200,      200,      200,   200),
    "subscriptions:removals":          (LOGIN, 403,      403,      200,   403),
    "subscriptions:inbound_review":    (LOGIN, 403,      403,      403,   200),
    "invoicing:invoice_list":          (LOGIN, 200,      200,      403,   200),
    "invoicing:queue":                 (LOGIN, 403,      403,      403,   200),
    "invoicing:issue":                 (LOGIN, 403,      403,      403,   405),
    "invoicing:run_list":              (LOGIN, 403,      403,      403,   200),
    "invoicing:price_list":            (LOGIN, 403,      403,      403,   200),
    "invoicing:base_package_ledger":   (LOGIN, 403,      403,      403,   200),
    "invoicing:payments":              (LOGIN, 403,      403,      403,   200),
    "invoicing:bank_import_new":       (LOGIN, 403,      403,      403,   200),
    "invoicing:export_invoices":       (LOGIN, 403,      403,      403,   200),
    "invoicing:export_invoice_lines":  (LOGIN, 403,      403,      403,   200),
    "accounts:second_factor_verify":   (LOGIN, HOME,     HOME,     HOME,  HOME),
    "accounts:second_factor_setup":    (LOGIN, 200,      200,      200,   200),
    "accounts:security":               (LOGIN, 200,      200,      200,   200),
    "accounts:reauthenticate":         (LOGIN, 200,      200,      200,   200),
    "accounts:recovery_codes":         (LOGIN, SECURITY, SECURITY, SECURITY, SECURITY),
    "accounts:recovery_codes_renew":   (LOGIN, AGAIN,    AGAIN,    AGAIN, AGAIN),
    "accounts:email_change":           (LOGIN, AGAIN,    AGAIN,    AGAIN, AGAIN),
    "accounts:invite":                 (LOGIN, 200,      200,      200,   200),
    "accounts:people":                 (LOGIN, 200,      200,      403,   403),
    "accounts:report_new":             (LOGIN, 200,      200,      200,   200),
    "accounts:report_list":            (LOGIN, 403,      403,      403,   200),
    "accounts:password_reset":         (200,   200,      200,      200,   200),
    "accounts:password_reset_done":    (200,   200,      200,      200,   200),
    "accounts:password_reset_complete":(200,   200,      200,      200,   200),
    "subscriptions:upgrade_queue":     (LOGIN, 403,      403,      200,   403),
    "subscriptions:password_changes":  (LOGIN, 403,      403,      200,   403),
    "subscriptions:personal_data_review":
                                       (LOGIN, 200,      200,      403,   403),
    "audit:audit_log":                 (LOGIN, 403,      403,      200,   200),
    "audit:audit_export":              (LOGIN, 403,      403,      200,   200),
    # The mail provider posts there; nobody opens it.
    "postmark_inbound_webhook":        (405,   405,      405,      405,   405),
}

# Pages reached through a link with a token; the link here is not a valid one.
LINK_PAGES = {
    "accounts:password_reset_confirm": {"uidb64": "MQ", "token": "not-a-token"},
}

# The admin of B never learns that A's objects exist.
OBJECT_PAGES = {
    "orders:request_detail": {
        #                           anonymous admin_a admin_b cell    tcd
        "submitted":                (LOGIN, 200,    404,    200,    200),
        "refused":                  (LOGIN, 200,    404,    200,    200),
        "order_form_issued":        (LOGIN, 200,    404,    200,    200),
        "order_form_submitted":     (LOGIN, 200,    404,    200,    200),
        "accounts_created":         (LOGIN, 200,    404,    200,    200),
    },
    "orders:order_form_complete": {
        "submitted":                (LOGIN, DETAIL, 404,    403,    403),
        "refused":                  (LOGIN, DETAIL, 404,    403,    403),
        "order_form_issued":        (LOGIN, 200,    404,    403,    403),
        "order_form_submitted":     (LOGIN, DETAIL, 404,    403,    403),
        "accounts_created":         (LOGIN, DETAIL, 404,    403,    403),
    },
    "orders:order_form_download": {
        "submitted":                (LOGIN, DETAIL, 404,    DETAIL, DETAIL),
        "refused":                  (LOGIN, DETAIL, 404,    DETAIL, DETAIL),
        "order_form_issued":        (LOGIN, DETAIL, 404,    DETAIL, DETAIL),
        "order_form_submitted":     (LOGIN, 200,    404,    200,    200),
        "accounts_created":         (LOGIN, 200,    404,    200,    200),
    },
    "orders:cell_request": {
        "submitted":                (LOGIN, 403,    403,    200,    403),
        "refused":                  (LOGIN, 403,    403,    200,    403),
        "order_form_issued":        (LOGIN, 403,    403,    200,    403),
        "order_form_submitted":     (LOGIN, 403,    403,    200,    403),
        "accounts_created":         (LOGIN, 403,    403,    200,    403),
    },
    "invoicing:invoice_detail": {
        INVOICE:                    (LOGIN, 200,    404,    403,    200),
    },
    "invoicing:invoice_download": {
        INVOICE:                    (LOGIN, 200,    404,    403,    200),
    },
    "invoicing:invoice_ubl_download": {
        INVOICE:                    (LOGIN, 200,    404,    403,    200),
    },
    "invoicing:credit_note_new": {
        INVOICE:                    (LOGIN, 403,    403,    403,    200),
    },
    "invoicing:run_detail": {
        DRAFT_RUN:                  (LOGIN, 403,    403,    403,    200),
    },
    "invoicing:payment_new": {
        INVOICE:                    (LOGIN, 403,    403,    403,    200),
    },
    "invoicing:bank_import_detail": {
        BANK_IMPORT:                (LOGIN, 403,    403,    403,    200),
    },
    "subscriptions:access_detail": {
        ACTIVE:                     (LOGIN, 200,    404,    200,    200),
        CANCELLED:                  (LOGIN, 200,    404,    200,    200),
        CLOSED:                     (LOGIN, 200,    404,    200,    200),
    },
    "subscriptions:access_cancel": {
        ACTIVE:                     (LOGIN, 200,    404,    403,    403),
    },
    "subscriptions:cancellation_withdraw": {
        CANCELLED:                  (LOGIN, 405,    405,    403,    405),
    },
    "subscriptions:access_close": {
        ACTIVE:                     (LOGIN, 403,    403,    403,    200),
    },
    "subscriptions:upgrade_request_new": {
        ACTIVE:                     (LOGIN, 200,    404,    403,    403),
    },
    "subscriptions:departure_record": {
        ACTIVE:                     (LOGIN, 200,    404,    403,    403),
    },
}

# What a POST does. DONE: the change happened and the answer is the endpoint's
# redirect; any other answer: nothing changed.
POSTS = {
    #                                        anonymous admin_a admin_b cell tcd
    "accounts:login":                        (DONE,  HOME, HOME, HOME, HOME),
    "accounts:logout":                       (LOGIN, DONE, DONE, DONE, DONE),
    "accounts:profile":                      (LOGIN, DONE, DONE, DONE, DONE),
    "orders:request_new":                    (LOGIN, DONE, DONE, 403,  403),
    "orders:order_form_complete":            (LOGIN, DONE, 404,  403,  403),
    "orders:cell_request (decision)":        (LOGIN, 403,  403,  DONE, 403),
    "orders:cell_request (ICMS account)":    (LOGIN, 403,  403,  DONE, 403),
    "subscriptions:access_cancel":           (LOGIN, DONE, 404,  403,  403),
    "subscriptions:cancellation_withdraw":   (LOGIN, DONE, 404,  403,  DONE),
    "subscriptions:access_close":            (LOGIN, 403,  403,  403,  DONE),
    "subscriptions:removals":                (LOGIN, 403,  403,  DONE, 403),
    "subscriptions:inbound_review":          (LOGIN, 403,  403,  403,  DONE),
    "invoicing:issue":                       (LOGIN, 403,  403,  403,  DONE),
    "invoicing:run_list":                    (LOGIN, 403,  403,  403,  DONE),
    "invoicing:run_detail (discard)":        (LOGIN, 403,  403,  403,  DONE),
    "invoicing:price_list":                  (LOGIN, 403,  403,  403,  DONE),
    "invoicing:credit_note_new":             (LOGIN, 403,  403,  403,  DONE),
    "invoicing:payment_new":                 (LOGIN, 403,  403,  403,  DONE),
    "invoicing:bank_import_new":             (LOGIN, 403,  403,  403,  DONE),
    "invoicing:payments":                    (LOGIN, 403,  403,  403,  DONE),
    "accounts:people":                       (LOGIN, DONE, 404,  403,  403),
    "accounts:report_new":                   (LOGIN, DONE, DONE, DONE, DONE),
    "accounts:email_change":                 (LOGIN, AGAIN, AGAIN, AGAIN, AGAIN),
    "accounts:recovery_codes_renew":         (LOGIN, AGAIN, AGAIN, AGAIN, AGAIN),
    "subscriptions:upgrade_request_new":     (LOGIN, DONE, 404,  403,  403),
}
# fmt: on

# What a download serves, when it is not a PDF.
DOWNLOADS = {"invoicing:invoice_ubl_download": ("application/xml", b"<?xml")}


def _project_urls(patterns=None, prefix="", namespace=""):
    """Yield ``(view name, route)`` for every URL outside SKIPPED_PREFIXES."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            inner = (
                f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            )
            yield from _project_urls(pattern.url_patterns, route, inner)
        else:
            yield f"{namespace}{pattern.name}", route


def _rows(table):
    return [
        pytest.param(view_name, visitor, answer, id=f"{view_name}-{visitor}")
        for view_name, answers in table.items()
        for visitor, answer in zip(VISITORS, answers, strict=True)
    ]


def _object_rows():
    return [
        pytest.param(
            view_name, state, visitor, answer, id=f"{view_name}[{state}]-{visitor}"
        )
        for view_name, by_state in OBJECT_PAGES.items()
        for state, answers in by_state.items()
        for visitor, answer in zip(VISITORS, answers, strict=True)
    ]


@pytest.fixture
def visit(request, client):
    """Log the client in as the named visitor; return the user, None if anonymous."""

    def log_in(visitor):
        if visitor == "anonymous":
            return None
        user = request.getfixturevalue(visitor)
        client.force_login(user)
        return user

    return log_in


@pytest.fixture
def object_of_a(admin_a, admin_b, cell, tcd):
    """An object of organisation A brought to a state by the services.

    ``admin_b`` is asked for so that organisation B exists in every test.
    """

    def build(state):
        if state == AccessRequestStatus.SUBMITTED:
            return factories.submitted_access_request(admin=admin_a)
        if state == AccessRequestStatus.REFUSED:
            return factories.refused_access_request(admin=admin_a, cell=cell)
        if state == AccessRequestStatus.ORDER_FORM_ISSUED:
            order_form = factories.issued_order_form(admin=admin_a, cell=cell)
            return order_form.access_request
        if state == AccessRequestStatus.ORDER_FORM_SUBMITTED:
            order_form = factories.submitted_order_form(admin=admin_a, cell=cell)
            return order_form.access_request
        access_request = factories.created_accounts(admin=admin_a, cell=cell)
        if state == AccessRequestStatus.ACCOUNTS_CREATED:
            return access_request
        if state == INVOICE:
            return invoice_issue(
                organisation=admin_a.organisation,
                period_ids=[period.pk for period in periods_to_invoice()],
                issued_by=tcd,
            )
        if state == DRAFT_RUN:
            return invoice_run_draft(as_of=timezone.localdate(), created_by=tcd)
        if state == BANK_IMPORT:
            return bank_import_upload(
                filename="afschrift.csv",
                content=STATEMENT,
                format="csv",
                uploaded_by=tcd,
            ).bank_import
        account = IcmsAccount.objects.filter(organisation=admin_a.organisation)[0]
        if state == CANCELLED:
            subscription_cancel(
                subscription=account.subscription,
                channel=CancellationChannel.PORTAL,
                registered_by=admin_a,
            )
        elif state == CLOSED:
            subscription_close(
                subscription=account.subscription,
                closed_by=tcd,
                reason=ClosureReason.BREACH,
            )
        elif state != ACTIVE:
            raise ValueError(state)
        return account

    return build


def assert_answer(response, answer, url):
    if answer == LOGIN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("accounts:login")
        assert parse_qs(location.query).get("next", [url]) == [url]
    elif isinstance(answer, To):
        assert response.status_code == 302
        target = resolve(urlsplit(response["Location"]).path)
        assert target.view_name == answer.view_name
        asked = resolve(url).kwargs if answer.same_pk else {}
        shared = asked.keys() & target.kwargs.keys()
        assert {key: target.kwargs[key] for key in shared} == {
            key: asked[key] for key in shared
        }
    else:
        assert response.status_code == answer


def assert_denial_recorded(user, answer, url, method):
    denials = AuditEntry.objects.filter(action="permission.denied")
    if answer == 403:
        entry = denials.get()
        assert entry.actor == user
        assert entry.data == {"method": method, "path": url}
        assert entry.client_address == "127.0.0.1"
    else:
        assert not denials.exists()


def test_it_has_an_expectation_for_every_url():
    urls = dict(_project_urls())
    of_an_object = {name for name, route in urls.items() if "<" in route}

    assert len(urls) == len(list(_project_urls())), "two URLs share a name"
    assert set(urls) == set(PAGES) | set(OBJECT_PAGES) | set(LINK_PAGES)
    assert of_an_object == set(OBJECT_PAGES) | set(LINK_PAGES)


@pytest.mark.parametrize(
    ("view_name", "visitor"),
    [(view_name, visitor) for view_name in LINK_PAGES for visitor in VISITORS],
)
def test_it_answers_each_visitor_of_a_link_that_is_not_valid(
    client, visit, view_name, visitor
):
    visit(visitor)

    response = client.get(reverse(view_name, kwargs=LINK_PAGES[view_name]))

    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="permission.denied").exists()


@pytest.mark.parametrize(("view_name", "visitor", "answer"), _rows(PAGES))
def test_it_answers_each_visitor_of_a_page(client, visit, view_name, visitor, answer):
    user = visit(visitor)
    url = reverse(view_name)

    response = client.get(url)

    assert_answer(response, answer, url)
    assert_denial_recorded(user, answer, url, "GET")


@pytest.mark.parametrize(("view_name", "state", "visitor", "answer"), _object_rows())
def test_it_answers_each_visitor_of_an_object_of_a(
    client, visit, object_of_a, view_name, state, visitor, answer
):
    pk = object_of_a(state).pk
    user = visit(visitor)
    url = reverse(view_name, kwargs={"pk": pk})

    response = client.get(url)

    assert_answer(response, answer, url)
    assert_denial_recorded(user, answer, url, "GET")
    if answer == 200 and view_name.endswith("_download"):
        content_type, start = DOWNLOADS.get(view_name, ("application/pdf", b"%PDF"))
        assert response["Content-Type"] == content_type
        assert response.getvalue().startswith(start)
        response.close()


@pytest.mark.parametrize(
    ("view_name", "state"),
    [(view_name, next(iter(by_state))) for view_name, by_state in OBJECT_PAGES.items()],
)
def test_it_answers_another_organisations_object_as_if_it_did_not_exist(
    client, admin_b, object_of_a, view_name, state
):
    pk = object_of_a(state).pk
    client.force_login(admin_b)
    missing = 10**9

    existing = client.get(reverse(view_name, kwargs={"pk": pk}))
    absent = client.get(reverse(view_name, kwargs={"pk": missing}))

    assert existing.status_code == absent.status_code
    assert _page_text(existing, pk) == _page_text(absent, missing)


def _page_text(response, pk):
    """The page without what differs on every request: the CSRF token, the pk."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return html.replace(f"/{pk}/", "/<pk>/")


@dataclass
class Post:
    """What a POST sends and where it goes when it is done; ``snapshot`` reads
    what it changes, before and after."""

    url: str
    data: dict
    done: To
    snapshot: object


def _post_login(object_of_a, admin_a):
    return Post(
        url=reverse("accounts:login"),
        data={"username": admin_a.email, "password": factories.PASSWORD},
        done=HOME,
        snapshot=lambda client: client.session.get("_auth_user_id"),
    )


def _post_logout(object_of_a, admin_a):
    return Post(
        url=reverse("accounts:logout"),
        data={},
        done=To("accounts:login"),
        snapshot=lambda client: client.session.get("_auth_user_id"),
    )


def _post_profile(object_of_a, admin_a):
    data = {
        "first_name": "Nieuwe",
        "last_name": "Naam",
        "phone": "+32 2 500 00 00",
        "function": "Coördinator",
        "language": "en",
    }
    return Post(
        url=reverse("accounts:profile"),
        data=data,
        done=To("accounts:profile"),
        snapshot=lambda client: list(User.objects.values_list("last_name", "phone")),
    )


def _post_request_new(object_of_a, admin_a):
    return Post(
        url=reverse("orders:request_new"),
        data={"quantity": "3", "motivation": "Drie extra officieren van dienst."},
        done=DETAIL,
        snapshot=lambda client: AccessRequest.objects.count(),
    )


def _post_order_form_complete(object_of_a, admin_a):
    access_request = object_of_a(AccessRequestStatus.ORDER_FORM_ISSUED)
    data = {
        "line-TOTAL_FORMS": "2",
        "line-INITIAL_FORMS": "2",
        "conditions_accepted": "on",
        **factories.billing_details(access_request.organisation),
    }
    for index in range(2):
        for field, value in factories.order_line(index + 1).items():
            if value is not False:
                data[f"line-{index}-{field}"] = value
    return Post(
        url=reverse("orders:order_form_complete", kwargs={"pk": access_request.pk}),
        data=data,
        done=DETAIL,
        snapshot=lambda client: (
            AccessRequest.objects.get(pk=access_request.pk).status,
            OrderLine.objects.count(),
        ),
    )


def _post_decision(object_of_a, admin_a):
    access_request = object_of_a(AccessRequestStatus.SUBMITTED)
    return Post(
        url=reverse("orders:cell_request", kwargs={"pk": access_request.pk}),
        data={"action": "decide", "decision": "issue", "quantity": "2"},
        done=To("orders:cell_request"),
        snapshot=lambda client: AccessRequest.objects.get(pk=access_request.pk).status,
    )


def _post_icms_account(object_of_a, admin_a):
    access_request = object_of_a(AccessRequestStatus.ORDER_FORM_SUBMITTED)
    line = access_request.order_form.lines.first()
    prefix = f"line-{line.pk}"
    return Post(
        url=reverse("orders:cell_request", kwargs={"pk": access_request.pk}),
        data={
            "action": f"create_account:{line.pk}",
            f"{prefix}-username": "jan.janssens",
            f"{prefix}-activation_date": timezone.localdate().isoformat(),
        },
        done=To("orders:cell_request"),
        snapshot=lambda client: IcmsAccount.objects.count(),
    )


def _post_access_cancel(object_of_a, admin_a):
    account = object_of_a(ACTIVE)
    return Post(
        url=reverse("subscriptions:access_cancel", kwargs={"pk": account.pk}),
        data={},
        done=To("subscriptions:access_detail"),
        snapshot=lambda client: account.subscription.cancellations.count(),
    )


def _post_cancellation_withdraw(object_of_a, admin_a):
    account = object_of_a(CANCELLED)
    return Post(
        url=reverse("subscriptions:cancellation_withdraw", kwargs={"pk": account.pk}),
        data={},
        done=To("subscriptions:access_detail"),
        snapshot=lambda client: account.subscription.active_cancellation(),
    )


def _post_access_close(object_of_a, admin_a):
    account = object_of_a(ACTIVE)
    return Post(
        url=reverse("subscriptions:access_close", kwargs={"pk": account.pk}),
        data={"reason": ClosureReason.BREACH, "note": "Gedeeld wachtwoord."},
        done=To("subscriptions:access_detail"),
        snapshot=lambda client: IcmsAccount.objects.get(pk=account.pk).status,
    )


def _post_removal(object_of_a, admin_a):
    account = object_of_a(CLOSED)
    return Post(
        url=reverse("subscriptions:removals"),
        data={"account": str(account.pk)},
        done=To("subscriptions:removals"),
        snapshot=lambda client: IcmsAccount.objects.get(pk=account.pk).status,
    )


def _post_inbound_review(object_of_a, admin_a):
    inbound = inbound_email_store_unparseable(
        message_id="<onleesbaar@stad.gent.example.be>",
        received_at=timezone.now(),
        sender="an.peeters@stad.gent.example.be",
        subject="Opzegging",
        raw="?",
    )
    return Post(
        url=reverse("subscriptions:inbound_review"),
        data={"inbound": str(inbound.pk), f"inbound-{inbound.pk}-note": "Spam."},
        done=To("subscriptions:inbound_review"),
        snapshot=lambda client: InboundEmail.objects.get(pk=inbound.pk).status,
    )


def _post_invoice_issue(object_of_a, admin_a):
    object_of_a(AccessRequestStatus.ACCOUNTS_CREATED)
    return Post(
        url=reverse("invoicing:issue"),
        data={
            "organisation": str(admin_a.organisation_id),
            "period": [str(period.pk) for period in periods_to_invoice()],
        },
        done=To("invoicing:invoice_detail"),
        snapshot=lambda client: Invoice.objects.count(),
    )


def _post_run_draft(object_of_a, admin_a):
    object_of_a(AccessRequestStatus.ACCOUNTS_CREATED)
    return Post(
        url=reverse("invoicing:run_list"),
        data={"as_of": timezone.localdate().isoformat()},
        done=To("invoicing:run_detail", same_pk=False),
        snapshot=lambda client: InvoiceRun.objects.count(),
    )


def _post_run_discard(object_of_a, admin_a):
    run = object_of_a(DRAFT_RUN)
    return Post(
        url=reverse("invoicing:run_detail", kwargs={"pk": run.pk}),
        data={"action": "discard"},
        done=To("invoicing:run_detail"),
        snapshot=lambda client: InvoiceRun.objects.get(pk=run.pk).status,
    )


def _post_price(object_of_a, admin_a):
    return Post(
        url=reverse("invoicing:price_list"),
        data={"form": "authority", "authority-name": "Provincie Antwerpen"},
        done=To("invoicing:price_list"),
        snapshot=lambda client: ContractingAuthority.objects.count(),
    )


def _post_credit_note(object_of_a, admin_a):
    invoice = object_of_a(INVOICE)
    return Post(
        url=reverse("invoicing:credit_note_new", kwargs={"pk": invoice.pk}),
        data={
            "reason": "Dubbel aangerekend.",
            "lines": [str(line.pk) for line in invoice.lines.all()],
        },
        done=To("invoicing:invoice_detail", same_pk=False),
        snapshot=lambda client: Invoice.objects.count(),
    )


def _post_payment(object_of_a, admin_a):
    invoice = object_of_a(INVOICE)
    return Post(
        url=reverse("invoicing:payment_new", kwargs={"pk": invoice.pk}),
        data={"amount": "100,00", "received_on": timezone.localdate().isoformat()},
        done=To("invoicing:invoice_detail"),
        snapshot=lambda client: Payment.objects.count(),
    )


def _post_bank_import(object_of_a, admin_a):
    return Post(
        url=reverse("invoicing:bank_import_new"),
        data={
            "statement": SimpleUploadedFile("afschrift.csv", STATEMENT),
            "format": "csv",
        },
        done=To("invoicing:bank_import_detail", same_pk=False),
        snapshot=lambda client: BankImportLine.objects.count(),
    )


def _post_bank_line(object_of_a, admin_a):
    line = object_of_a(BANK_IMPORT).lines.get()
    return Post(
        url=reverse("invoicing:payments"),
        data={"line": str(line.pk), f"line-{line.pk}-note": "Niet voor TCD."},
        done=To("invoicing:payments"),
        snapshot=lambda client: BankImportLine.objects.get(pk=line.pk).status,
    )


def _post_people(object_of_a, admin_a):
    colleague = factories.OrganisationAdminFactory(organisation=admin_a.organisation)
    return Post(
        url=reverse("accounts:people"),
        data={"user": str(colleague.pk)},
        done=To("accounts:people"),
        snapshot=lambda client: User.objects.get(pk=colleague.pk).is_active,
    )


def _post_report(object_of_a, admin_a):
    return Post(
        url=reverse("accounts:report_new"),
        data={
            "description": "Iemand vroeg per telefoon naar mijn wachtwoord.",
            "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
        done=To("accounts:report_new"),
        snapshot=lambda client: SuspiciousReport.objects.count(),
    )


def _post_email_change(object_of_a, admin_a):
    return Post(
        url=reverse("accounts:email_change"),
        data={"email": "nieuw.adres@example.be"},
        done=AGAIN,
        snapshot=lambda client: sorted(User.objects.values_list("email", flat=True)),
    )


def _post_recovery_codes_renew(object_of_a, admin_a):
    return Post(
        url=reverse("accounts:recovery_codes_renew"),
        data={},
        done=AGAIN,
        snapshot=lambda client: sorted(
            StaticToken.objects.values_list("token", flat=True)
        ),
    )


def _post_upgrade_request(object_of_a, admin_a):
    account = object_of_a(ACTIVE)
    return Post(
        url=reverse("subscriptions:upgrade_request_new", kwargs={"pk": account.pk}),
        data={"reason": "Zij coördineert de gemeentelijke crisiscel."},
        done=To("subscriptions:access_detail"),
        snapshot=lambda client: account.upgrade_requests.count(),
    )


POST_BUILDERS = {
    "accounts:login": _post_login,
    "accounts:logout": _post_logout,
    "accounts:profile": _post_profile,
    "orders:request_new": _post_request_new,
    "orders:order_form_complete": _post_order_form_complete,
    "orders:cell_request (decision)": _post_decision,
    "orders:cell_request (ICMS account)": _post_icms_account,
    "subscriptions:access_cancel": _post_access_cancel,
    "subscriptions:cancellation_withdraw": _post_cancellation_withdraw,
    "subscriptions:access_close": _post_access_close,
    "subscriptions:removals": _post_removal,
    "subscriptions:inbound_review": _post_inbound_review,
    "invoicing:issue": _post_invoice_issue,
    "invoicing:run_list": _post_run_draft,
    "invoicing:run_detail (discard)": _post_run_discard,
    "invoicing:price_list": _post_price,
    "invoicing:credit_note_new": _post_credit_note,
    "invoicing:payment_new": _post_payment,
    "invoicing:bank_import_new": _post_bank_import,
    "invoicing:payments": _post_bank_line,
    "accounts:people": _post_people,
    "accounts:report_new": _post_report,
    "accounts:email_change": _post_email_change,
    "accounts:recovery_codes_renew": _post_recovery_codes_renew,
    "subscriptions:upgrade_request_new": _post_upgrade_request,
}


def test_it_has_a_post_builder_for_every_post_endpoint():
    assert set(POST_BUILDERS) == set(POSTS)


@pytest.mark.parametrize(("endpoint", "visitor", "answer"), _rows(POSTS))
def test_it_lets_only_the_right_visitor_post(
    client, visit, admin_a, object_of_a, endpoint, visitor, answer
):
    post = POST_BUILDERS[endpoint](object_of_a, admin_a)
    user = visit(visitor)
    before = post.snapshot(client)

    response = client.post(post.url, post.data)

    after = post.snapshot(client)
    if answer == DONE:
        assert_answer(response, post.done, post.url)
        assert after != before
    else:
        assert_answer(response, answer, post.url)
        assert after == before
    assert_denial_recorded(user, answer, post.url, "POST")


def test_it_refuses_an_inbound_email_posted_without_the_webhook_secret(
    client, settings
):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "postmark:secret-value"}
    guessed = base64.b64encode(b"postmark:guessed").decode()

    response = client.post(
        reverse("postmark_inbound_webhook"),
        data="{}",
        content_type="application/json",
        headers={"authorization": f"Basic {guessed}"},
    )

    assert response.status_code == 400
    assert not InboundEmail.objects.exists()


@pytest.mark.parametrize("visitor", ["anonymous", "admin_a", "cell", "tcd"])
def test_it_sends_everyone_but_superusers_to_the_django_admin_login(
    client, visit, visitor
):
    visit(visitor)

    response = client.get("/django-admin/")

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/django-admin/login/"
    assert parse_qs(location.query)["next"] == ["/django-admin/"]


def test_it_opens_django_admin_to_superusers(client, db):
    superuser = factories.TcdFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    response = client.get("/django-admin/")

    assert response.status_code == 200
