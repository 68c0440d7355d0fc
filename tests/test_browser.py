"""The five steps of an order, clicked through in Debian's Chromium.

Locators name what a person sees (labels, roles, button texts), in the
language of the person on the page, so that a failure reads as what they could
not do. A failed step leaves a screenshot in /tmp.
"""

import io
import os
import re
from contextlib import contextmanager

import pytest
from django.utils import translation
from django.utils.translation import gettext
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from invoicing.models import Invoice
from orders.models import AccessRequest

from . import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = "/tmp"  # noqa: S108
STRUCTURED_COMMUNICATION = re.compile(r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+")


def seen_by(user, text):
    """``text`` as ``user`` reads it on the page."""
    with translation.override(user.language):
        return gettext(text)


def same_spacing(text):
    return " ".join(text.replace("\u00a0", " ").split())


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes between steps are plain synchronous ones. Set for this
    # test only, so no other test or subprocess inherits it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium.")
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@contextmanager
def step(page, name):
    """Run one step; on failure keep a screenshot of where it stopped."""
    try:
        yield
    except Exception:
        path = f"{SCREENSHOTS}/icms-browser-{name}.png"
        page.screenshot(path=path, full_page=True)
        print(f"Screenshot of the failed step {name!r}: {path}")
        raise


def code_on_the_phone(user):
    """The code the person's authenticator app shows now.

    A device refuses a code of a time step it already accepted, and one person
    logs in here several times within 30 seconds: the device forgets its last
    step, as if each login came a little later.
    """
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def log_in(page, user):
    page.goto("/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label(seen_by(user, "Code")).fill(code_on_the_phone(user))
    page.get_by_role("button", name=seen_by(user, "Confirm")).click()
    page.get_by_role("button", name=seen_by(user, "Log out")).wait_for()


def log_out(page, user):
    page.get_by_role("button", name=seen_by(user, "Log out")).click()
    page.get_by_role("heading", name="Log in").wait_for()


@pytest.mark.browser
def test_it_takes_an_order_from_request_to_invoice_pdf(
    page, transactional_db, admin_a, cell, tcd
):
    from playwright.sync_api import expect

    for user in (admin_a, cell, tcd):
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)

    with step(page, "1-request"):
        log_in(page, admin_a)
        page.get_by_role(
            "link", name=seen_by(admin_a, "Ask for additional accesses")
        ).click()
        page.get_by_label(seen_by(admin_a, "Number of additional accesses")).fill("2")
        page.get_by_label(seen_by(admin_a, "Motivation")).fill(
            "Twee officieren van de noodplanning volgen de provinciale fase."
        )
        page.get_by_role("button", name=seen_by(admin_a, "Send the request")).click()
        expect(page.get_by_role("status")).to_have_text(
            seen_by(
                admin_a,
                "Your request is sent to the ICMS cell. You will get an email "
                "when it has decided.",
            )
        )
        log_out(page, admin_a)
    access_request = AccessRequest.objects.get()

    with step(page, "2-order-form-issued"):
        log_in(page, cell)
        page.get_by_role("link", name=access_request.reference).click()
        page.get_by_label(seen_by(cell, "Eligible: send the order form")).check()
        page.get_by_role("button", name=seen_by(cell, "Record the decision")).click()
        expect(page.get_by_role("status")).to_have_text(
            seen_by(cell, "The order form is sent to the organisation.")
        )
        log_out(page, cell)

    with step(page, "3-order-form-completed"):
        log_in(page, admin_a)
        page.get_by_role(
            "link", name=seen_by(admin_a, "Complete the order form")
        ).first.click()
        people = [
            ("Élise", "Müller", "elise.muller@stad.gent.example.be", "Officier"),
            ("Jan", "Peeters", "jan.peeters@stad.gent.example.be", "Planner"),
        ]
        for number, person in enumerate(people, start=1):
            for label, value in zip(
                ["First name", "Last name", "Email", "Function"], person, strict=True
            ):
                page.get_by_label(
                    f"{seen_by(admin_a, label)} {number}", exact=True
                ).fill(value)
        page.get_by_label(
            seen_by(
                admin_a,
                "I accept the conditions of use of ICMS for the accesses on this form.",
            )
        ).check()
        page.get_by_role(
            "button", name=seen_by(admin_a, "Submit the order form")
        ).click()
        expect(page.get_by_role("status")).to_have_text(
            seen_by(
                admin_a,
                "Your order form is sent to the ICMS cell and to TCD. The cell "
                "now creates the accounts.",
            )
        )
        expect(page.get_by_role("cell", name="Élise Müller")).to_be_visible()
        log_out(page, admin_a)

    with step(page, "4-accounts-created"):
        log_in(page, cell)
        page.get_by_role("link", name=access_request.order_form.reference).click()
        for name in ["Élise Müller", "Jan Peeters"]:
            row = page.get_by_role("row").filter(has_text=name)
            expect(row.get_by_label(seen_by(cell, "ICMS user name"))).not_to_be_empty()
            row.get_by_role("button", name=seen_by(cell, "Create the account")).click()
            expect(page.get_by_role("status")).to_contain_text(name)
        expect(page.get_by_role("row").filter(has_text="Élise Müller")).to_contain_text(
            "elise.muller"
        )
        log_out(page, cell)

    with step(page, "5-invoice-issued"):
        log_in(page, tcd)
        page.get_by_role("link", name=seen_by(tcd, "To invoice"), exact=True).click()
        expect(page.get_by_role("checkbox", name="elise.muller")).to_be_checked()
        issue = seen_by(tcd, "Issue the invoice to %(name)s") % {
            "name": admin_a.organisation.legal_name
        }
        page.get_by_role("button", name=issue).click()
        invoice = Invoice.objects.get()
        expect(page.get_by_role("heading", level=1)).to_contain_text(invoice.number)
        log_out(page, tcd)

    with step(page, "6-invoice-downloaded"):
        log_in(page, admin_a)
        page.get_by_role("link", name=seen_by(admin_a, "Invoices"), exact=True).click()
        row = page.get_by_role("row").filter(has_text=invoice.number)
        total = same_spacing(row.locator("td.number").inner_text())
        with page.expect_download() as download_info:
            row.get_by_role("link", name=seen_by(admin_a, "PDF")).click()
        download = download_info.value
        assert download.suggested_filename == f"{invoice.number}.pdf"
        text = pdf_text(download.path())

    assert invoice.number in text
    assert total in same_spacing(text)
    assert set(STRUCTURED_COMMUNICATION.findall(text)) == {
        invoice.structured_communication_display
    }


def pdf_text(path):
    from pypdf import PdfReader

    with open(path, "rb") as file:
        reader = PdfReader(io.BytesIO(file.read()))
    return "\n".join(page.extract_text() for page in reader.pages)
