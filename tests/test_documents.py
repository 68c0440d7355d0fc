"""The order form and invoice PDFs, and the emails of the ordering procedure."""

import io
from pathlib import Path

import pytest
from django.utils import translation
from PIL import Image
from pypdf import PdfReader

import notifications.services
from icms_portal import documents
from icms_portal.documents import STATIC_DIR, StaticFilesOnlyFetcher, pdf_render
from icms_portal.templatetags.portal import money
from invoicing.documents import (
    invoice_attachment,
    invoice_pdf_ensure,
    invoice_pdf_render,
    vat_number_format,
)
from invoicing.models import Invoice
from invoicing.services import invoice_issue, periods_to_invoice
from notifications.attachments import attachment_produce
from notifications.models import OutgoingEmail
from orders.documents import order_form_attachment, order_form_pdf
from orders.models import AccessRequest, AccessRequestStatus
from orders.services import access_request_issue_order_form, order_form_submit
from subscriptions.services import icms_account_create, username_suggest

from . import factories

HOLDERS = [
    {
        "first_name": "Élise",
        "last_name": "Müller",
        "email": "elise.muller@hainaut-centre.example.be",
        "function": "Officière de garde",
        "training_included": True,
    },
    {
        "first_name": "Jean-François",
        "last_name": "Dupré-Lefèvre",
        "email": "jf.dupre@hainaut-centre.example.be",
        "function": "Coordinateur discipline 1",
        "training_included": False,
    },
]

EMAIL_TEMPLATES = [
    "access_request_submitted",
    "access_request_refused",
    "order_form_issued",
    "order_form_submitted",
    "accounts_created",
    "invoice_issued",
]


def pdf_text(content):
    """The text of every page, with every run of white space as one space."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def contains(text, expected):
    """Whether ``expected`` is in ``text``, wherever a line was wrapped."""
    return "".join(expected.split()) in "".join(text.split())


@pytest.fixture
def hainaut(ibz_agreement):
    """A French-speaking emergency zone registered for VAT, with accents to keep."""
    number = factories.enterprise_number("08550000")
    return factories.OrganisationFactory(
        legal_name="Zone de secours Hainaut-Centre",
        enterprise_number=number,
        vat_number=f"BE{number}",
        street="Rue de l'Industrie 12",
        postcode="7000",
        city="Mons",
        billing_email="factures@hainaut-centre.example.be",
        language="fr",
        contracting_authority=ibz_agreement.contracting_authority,
    )


@pytest.fixture
def admin_hainaut(hainaut):
    return factories.OrganisationAdminFactory(
        email="m.lambert@hainaut-centre.example.be",
        first_name="Mathilde",
        last_name="Lambert",
        function="Responsable planification d'urgence",
        organisation=hainaut,
    )


def completed_order_form(*, admin, cell, message="", quantity=2):
    access_request = factories.submitted_access_request(admin=admin, quantity=quantity)
    order_form = access_request_issue_order_form(
        access_request=access_request, decided_by=cell, message=message
    )
    return order_form_submit(
        order_form=order_form,
        submitted_by=admin,
        lines=HOLDERS,
        billing=factories.billing_details(
            admin.organisation, purchase_order_reference="BC-2026/0457"
        ),
        conditions_accepted=True,
    )


def issued_invoice(*, admin, cell, tcd, message=""):
    """Walk a request through every step, up to its invoice."""
    order_form = completed_order_form(admin=admin, cell=cell, message=message)
    for line in order_form.lines.all():
        icms_account_create(
            order_line=line, username=username_suggest(line), created_by=cell
        )
    organisation = admin.organisation
    periods = periods_to_invoice().filter(
        subscription__account__organisation=organisation
    )
    return invoice_issue(
        organisation=organisation,
        period_ids=[period.pk for period in periods],
        issued_by=tcd,
    )


@pytest.fixture
def invoice(admin_hainaut, cell, tcd):
    return issued_invoice(admin=admin_hainaut, cell=cell, tcd=tcd)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# The invoice


@pytest.mark.django_db
def test_it_prints_what_the_law_asks_on_an_invoice(invoice):
    text = pdf_text(invoice_pdf_render(invoice))

    with translation.override("fr"):
        total = money(invoice.gross_total)
    for expected in [
        invoice.number,
        total,
        invoice.structured_communication_display,
        "Zone de secours Hainaut-Centre",
        "Rue de l'Industrie 12",
        "Élise Müller",
        "Jean-François Dupré-Lefèvre",
        "BE 0855.000.065",
        "TCD Crisis Systems NV",
        "0403.170.701",
        "BE 0403.170.701",
        "RPR Brussel",
        "BE71 0961 2345 6769",
        "GKCCBEBB",
        "BC-2026/0457",
        invoice.order_form_reference,
        f"{invoice.issue_date:%d/%m/%Y}",
        f"{invoice.due_date:%d/%m/%Y}",
    ]:
        assert contains(text, expected), expected


@pytest.mark.django_db
def test_it_prints_the_invoice_from_its_snapshot_not_from_the_organisation(invoice):
    invoice.organisation.legal_name = "A later name"
    invoice.organisation.save()

    text = pdf_text(invoice_pdf_render(Invoice.objects.get(pk=invoice.pk)))

    assert contains(text, "Zone de secours Hainaut-Centre")
    assert "A later name" not in text


@pytest.mark.django_db
def test_it_formats_amounts_in_the_customers_language(invoice):
    text = pdf_text(invoice_pdf_render(invoice))

    # Two holders at 120.00, 21% VAT on 240.00.
    assert contains(text, "€ 240,00")
    assert contains(text, "€ 50,40")
    assert contains(text, "€ 290,40")


@pytest.mark.django_db
def test_it_prints_on_a_credit_note_the_invoice_it_corrects_and_why(invoice, tcd):
    from invoicing.services import credit_note_issue

    credit_note = credit_note_issue(
        invoice=invoice, issued_by=tcd, reason="Titulaire erroné à la ligne 1"
    )

    text = pdf_text(invoice_pdf_render(credit_note))

    assert contains(text, credit_note.number)
    assert contains(text, f"{invoice.number} · {invoice.issue_date:%d/%m/%Y}")
    assert contains(text, "Titulaire erroné à la ligne 1")


@pytest.mark.django_db
def test_it_stores_the_invoice_pdf_once_and_returns_it_again(invoice, media):
    first = invoice_pdf_ensure(invoice)

    invoice.refresh_from_db()
    assert invoice.pdf.name == f"invoices/{invoice.issue_date:%Y}/{invoice.number}.pdf"
    assert first.startswith(b"%PDF")

    def render_again(invoice):
        raise AssertionError("A stored invoice is never rendered again.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("invoicing.documents.invoice_pdf_render", render_again)
        second = invoice_pdf_ensure(Invoice.objects.get(pk=invoice.pk))

    assert second == first


@pytest.mark.django_db
def test_it_keeps_the_first_stored_pdf_when_two_workers_render(invoice, media):
    # Both workers loaded the invoice before either stored its PDF.
    first_worker = Invoice.objects.get(pk=invoice.pk)
    second_worker = Invoice.objects.get(pk=invoice.pk)

    stored = invoice_pdf_ensure(first_worker)
    returned = invoice_pdf_ensure(second_worker)

    assert returned == stored
    assert second_worker.pdf.name == first_worker.pdf.name
    files = list(Path(media).rglob("*.pdf"))
    assert [file.name for file in files] == [f"{invoice.number}.pdf"]


@pytest.mark.django_db
def test_it_attaches_the_stored_invoice_pdf(invoice, media):
    filename, content, mimetype = attachment_produce(
        {"kind": "invoice_pdf", "id": invoice.pk}
    )

    assert filename == f"{invoice.number}.pdf"
    assert mimetype == "application/pdf"
    assert content == invoice_attachment(invoice.pk)[1]
    invoice.refresh_from_db()
    assert invoice.pdf


def test_it_writes_belgian_vat_numbers_in_groups():
    assert vat_number_format("BE0855000065") == "BE 0855.000.065"
    assert vat_number_format("") == ""
    assert vat_number_format("NL123456789B01") == "NL123456789B01"


# The order form


@pytest.mark.django_db
def test_it_prints_every_person_on_the_order_form(admin_hainaut, cell):
    order_form = completed_order_form(
        admin=admin_hainaut, cell=cell, message="Bienvenue dans ICMS."
    )

    text = pdf_text(order_form_pdf(order_form))

    for expected in [
        order_form.reference,
        "Zone de secours Hainaut-Centre",
        "0855.000.065",
        "7000 Mons",
        "Mathilde Lambert",
        "Bienvenue dans ICMS.",
        "BC-2026/0457",
        "factures@hainaut-centre.example.be",
    ]:
        assert contains(text, expected), expected
    for holder in HOLDERS:
        for field in ("first_name", "last_name", "email", "function"):
            assert contains(text, holder[field]), holder[field]


@pytest.mark.django_db
def test_it_attaches_the_order_form_under_its_reference(admin_hainaut, cell):
    order_form = completed_order_form(admin=admin_hainaut, cell=cell)

    filename, content, mimetype = attachment_produce(
        {"kind": "order_form_pdf", "id": order_form.pk}
    )

    assert filename == f"{order_form.reference}.pdf"
    assert mimetype == "application/pdf"
    assert contains(pdf_text(content), "Élise")
    assert order_form_attachment(order_form.pk)[0] == filename


@pytest.mark.django_db
def test_it_prints_markup_typed_by_a_customer_as_text(admin_hainaut, cell):
    holder = {**HOLDERS[0], "function": '<img src="file:///etc/passwd"> Officier'}
    access_request = factories.submitted_access_request(admin=admin_hainaut)
    order_form = access_request_issue_order_form(
        access_request=access_request, decided_by=cell
    )
    order_form = order_form_submit(
        order_form=order_form,
        submitted_by=admin_hainaut,
        lines=[holder],
        billing=factories.billing_details(admin_hainaut.organisation),
        conditions_accepted=True,
    )

    text = pdf_text(order_form_pdf(order_form))

    assert contains(text, '<img src="file:///etc/passwd"> Officier')


# What the renderer may load


def test_it_loads_the_document_stylesheet():
    response = StaticFilesOnlyFetcher().fetch(
        (STATIC_DIR / "css" / "document.css").as_uri()
    )
    try:
        assert b"@page" in response.read()
    finally:
        response.close()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        (STATIC_DIR / ".." / "manage.py").as_uri(),
        (STATIC_DIR / "css").as_uri(),
        "http://example.org/style.css",
        "https://example.org/logo.png",
        "data:text/css,body{}",
    ],
)
def test_it_refuses_anything_but_a_static_file(url):
    with pytest.raises(ValueError):
        StaticFilesOnlyFetcher().fetch(url)


def png_outside_static(folder):
    path = folder / "outside.png"
    Image.new("RGB", (40, 40), "red").save(path)
    return path


def page_images(content):
    return sum(len(page.images) for page in PdfReader(io.BytesIO(content)).pages)


def test_it_renders_a_document_without_the_files_it_may_not_load(monkeypatch, tmp_path):
    outside = png_outside_static(tmp_path)
    html = (
        '<html><body><p>Avant</p><img src="file:///etc/passwd">'
        f'<img src="{outside.as_uri()}"><img src="http://example.org/x.png">'
        "<p>Après</p></body></html>"
    )
    monkeypatch.setattr(documents, "render_to_string", lambda template, context: html)

    content = pdf_render(template="any.html", context={}, language="fr")

    assert page_images(content) == 0
    assert "Avant" in pdf_text(content)
    assert "Après" in pdf_text(content)


def test_it_would_embed_that_image_with_weasyprints_own_fetcher(tmp_path):
    # Shows that the test above proves something: the same image, rendered
    # without the portal's fetcher, ends up in the PDF.
    import weasyprint

    outside = png_outside_static(tmp_path)
    html = f'<html><body><img src="{outside.as_uri()}"></body></html>'

    content = weasyprint.HTML(string=html).write_pdf()

    assert page_images(content) == 1


# The emails


@pytest.fixture
def rendered(monkeypatch):
    """Every email file the outbox renders, as ``(name, output)``, in order."""
    renders = []
    render = notifications.services.render_to_string

    def spy(name, context):
        output = render(name, context)
        renders.append((name, output))
        return output

    monkeypatch.setattr(notifications.services, "render_to_string", spy)
    return renders


def every_email(*, admin, cell, tcd):
    """Walk one request to its invoice and refuse another: every email once."""
    issued_invoice(
        admin=admin, cell=cell, tcd=tcd, message="Bienvenue & bonne continuation."
    )
    factories.refused_access_request(
        admin=admin, cell=cell, reason="Hors du plan de répartition & du contrat."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "nl", "fr"])
def test_it_renders_every_email_in_each_language(
    language, settings, rendered, admin_hainaut, cell, tcd
):
    settings.MAILBOX_LANGUAGE = language
    admin_hainaut.organisation.language = language
    admin_hainaut.organisation.save()

    every_email(admin=admin_hainaut, cell=cell, tcd=tcd)

    names = {name for name, _output in rendered}
    for template in EMAIL_TEMPLATES:
        for part in ("subject.txt", "body.txt", "body.html"):
            assert f"emails/{template}/{part}" in names
    for name, output in rendered:
        assert output.strip(), name
        if name.endswith("subject.txt"):
            assert "\n" not in output.strip(), name
    assert {email.language for email in OutgoingEmail.objects.all()} == {language}


@pytest.mark.django_db
def test_it_links_each_email_to_its_page(settings, admin_hainaut, cell, tcd):
    settings.SITE_URL = "https://icms.example.be"

    every_email(admin=admin_hainaut, cell=cell, tcd=tcd)

    ordered = AccessRequest.objects.get(status=AccessRequestStatus.ACCOUNTS_CREATED)
    refused = AccessRequest.objects.get(status=AccessRequestStatus.REFUSED)
    invoice = Invoice.objects.get()
    site = "https://icms.example.be"
    links = {
        f"access_request.submitted:{ordered.pk}": f"{site}/cell/requests/{ordered.pk}/",
        f"access_request.submitted:{refused.pk}": f"{site}/cell/requests/{refused.pk}/",
        f"order_form.issued:{ordered.order_form.pk}": (
            f"{site}/requests/{ordered.pk}/order-form/"
        ),
        f"access_request.refused:{refused.pk}": f"{site}/requests/{refused.pk}/",
        f"order_form.submitted:{ordered.order_form.pk}": (
            f"{site}/requests/{ordered.pk}/"
        ),
        f"access_request.completed:{ordered.pk}": f"{site}/accesses/",
        f"invoice.issued:{invoice.pk}": f"{site}/invoices/{invoice.pk}/",
    }
    for key, link in links.items():
        email = OutgoingEmail.objects.get(key=key)
        assert link in email.body_text, key
        assert f'href="{link}"' in email.body_html, key


@pytest.mark.django_db
def test_it_writes_plain_text_emails_without_html_escapes(admin_hainaut, cell, tcd):
    every_email(admin=admin_hainaut, cell=cell, tcd=tcd)

    issued = OutgoingEmail.objects.get(template="order_form_issued")
    refused = OutgoingEmail.objects.get(template="access_request_refused")
    submitted = OutgoingEmail.objects.filter(template="access_request_submitted")[0]
    assert "Bienvenue & bonne continuation." in issued.body_text
    assert "Bienvenue &amp; bonne continuation." in issued.body_html
    assert "Hors du plan de répartition & du contrat." in refused.body_text
    assert "Responsable planification d'urgence" in submitted.body_text
    assert "&amp;" not in refused.body_text
    assert "&#x27;" not in submitted.body_text


@pytest.mark.django_db
def test_it_lists_the_new_accounts_and_how_to_start(admin_hainaut, cell, tcd):
    every_email(admin=admin_hainaut, cell=cell, tcd=tcd)

    email = OutgoingEmail.objects.get(template="accounts_created")
    assert email.to == ["m.lambert@hainaut-centre.example.be"]
    for holder in HOLDERS:
        assert f"{holder['first_name']} {holder['last_name']}" in email.body_text
    for account in admin_hainaut.organisation.icms_accounts.all():
        assert account.username in email.body_text
        assert account.username in email.body_html
    assert "ICMS" in email.subject


@pytest.mark.django_db
def test_it_tells_the_customer_how_to_pay_the_invoice(admin_hainaut, cell, tcd):
    every_email(admin=admin_hainaut, cell=cell, tcd=tcd)

    invoice = Invoice.objects.get()
    email = OutgoingEmail.objects.get(template="invoice_issued")
    assert email.to == ["factures@hainaut-centre.example.be"]
    assert invoice.number in email.subject
    assert invoice.structured_communication_display in email.body_text
    assert contains(email.body_text, "€ 290,40")
    assert email.attachments == [
        {"kind": "invoice_pdf", "id": invoice.pk},
        {"kind": "invoice_ubl", "id": invoice.pk},
    ]


@pytest.mark.django_db
def test_it_mentions_a_quantity_other_than_the_one_asked_for(admin_hainaut, cell):
    admin_hainaut.organisation.language = "en"
    admin_hainaut.organisation.save()
    access_request = factories.submitted_access_request(admin=admin_hainaut, quantity=5)
    access_request_issue_order_form(
        access_request=access_request, decided_by=cell, quantity=3
    )

    email = OutgoingEmail.objects.get(template="order_form_issued")
    assert "for 3 additional ICMS accesses" in email.body_text
    assert "You had asked for 5 accesses." in email.body_text
