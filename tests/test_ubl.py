"""The e-invoice: UBL 2.1 per Peppol BIS Billing 3.0, stored once and sent.

Every document built here is validated against the OASIS UBL 2.1 schema that
``make test`` extracts into var/ubl-2.1/. The Peppol and EN 16931 schematron
rules are not run here; the assertions below check the ones this portal's
documents could break: the sums, VAT per rate, identifiers and references.
"""

import os
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from lxml import etree
from stdnum.be import vat as belgian_enterprise_number

from invoicing.models import Invoice
from invoicing.services import credit_note_issue, invoice_issue, periods_to_invoice
from invoicing.ubl import (
    UblError,
    invoice_ubl_attachment,
    invoice_ubl_build,
    invoice_ubl_ensure,
)
from notifications.attachments import attachment_produce
from notifications.models import OutgoingEmail
from notifications.services import outgoing_email_send
from orders.services import order_form_submit
from subscriptions.services import icms_account_create

from . import factories

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "var" / "ubl-2.1"
NAMESPACES = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

# The children of each element in the order the UBL schema and Peppol BIS
# Billing 3.0 put them, for the documents this portal writes.
INVOICE_ORDER = [
    "CustomizationID",
    "ProfileID",
    "ID",
    "IssueDate",
    "DueDate",
    "InvoiceTypeCode",
    "DocumentCurrencyCode",
    "BuyerReference",
    "InvoicePeriod",
    "OrderReference",
    "AccountingSupplierParty",
    "AccountingCustomerParty",
    "PaymentMeans",
    "TaxTotal",
    "LegalMonetaryTotal",
]
CREDIT_NOTE_ORDER = [
    "CustomizationID",
    "ProfileID",
    "ID",
    "IssueDate",
    "CreditNoteTypeCode",
    "Note",
    "DocumentCurrencyCode",
    "BuyerReference",
    "InvoicePeriod",
    "OrderReference",
    "BillingReference",
    "AccountingSupplierParty",
    "AccountingCustomerParty",
    "TaxTotal",
    "LegalMonetaryTotal",
]
PARTY_ORDER = [
    "EndpointID",
    "PartyName",
    "PostalAddress",
    "PartyTaxScheme",
    "PartyLegalEntity",
    "Contact",
]
ADDRESS_ORDER = ["StreetName", "CityName", "PostalZone", "Country"]
LEGAL_ENTITY_ORDER = ["RegistrationName", "CompanyID", "CompanyLegalForm"]
PAYMENT_MEANS_ORDER = ["PaymentMeansCode", "PaymentID", "PayeeFinancialAccount"]
ACCOUNT_ORDER = ["ID", "Name", "FinancialInstitutionBranch"]
TAX_SUBTOTAL_ORDER = ["TaxableAmount", "TaxAmount", "TaxCategory"]
TAX_CATEGORY_ORDER = ["ID", "Percent", "TaxScheme"]
MONETARY_TOTAL_ORDER = [
    "LineExtensionAmount",
    "TaxExclusiveAmount",
    "TaxInclusiveAmount",
    "PayableAmount",
]
LINE_ORDER = [
    "ID",
    "{quantity}",
    "LineExtensionAmount",
    "InvoicePeriod",
    "Item",
    "Price",
]
ITEM_ORDER = ["Name", "ClassifiedTaxCategory"]

CUSTOMIZATION_ID = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
HALF_UP = ROUND_HALF_UP
CENT = Decimal("0.01")


@cache
def _schema(name):
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "maindoc" / name)))


def ubl_schema(root):
    """The UBL 2.1 schema of the document ``root`` is; skipped when absent."""
    name = "UBL-CreditNote-2.1.xsd" if is_credit_note(root) else "UBL-Invoice-2.1.xsd"
    if not (SCHEMA_DIR / "maindoc" / name).exists():
        reason = f"{SCHEMA_DIR} has no {name}; `make test` extracts the UBL schemas."
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return _schema(name)


def is_credit_note(root):
    return etree.QName(root).localname == "CreditNote"


def children(element):
    return [etree.QName(child).localname for child in element]


def one(element, path):
    found = element.xpath(path, namespaces=NAMESPACES)
    assert len(found) == 1, path
    return found[0]


def text(element, path):
    return one(element, path).text


def amount(element, path):
    return Decimal(text(element, path))


def parsed(invoice):
    return etree.fromstring(invoice_ubl_build(invoice))


@pytest.fixture
def client(client):
    """The test client. A request activates its user's language for the rest of
    the thread, so the test ends by going back to the default one."""
    yield client
    translation.deactivate()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def issued_invoice(*, admin, cell, tcd, quantity=2, purchase_order_reference=""):
    """Walk an order form of ``quantity`` people to its invoice."""
    order_form = factories.issued_order_form(admin=admin, cell=cell, quantity=quantity)
    order_form = order_form_submit(
        order_form=order_form,
        submitted_by=admin,
        lines=[factories.order_line(number) for number in range(1, quantity + 1)],
        billing=factories.billing_details(
            admin.organisation, purchase_order_reference=purchase_order_reference
        ),
        conditions_accepted=True,
    )
    for line in order_form.lines.all():
        icms_account_create(
            order_line=line,
            username=f"{admin.organisation.pk}.{line.email.split('@')[0]}",
            created_by=cell,
        )
    periods = periods_to_invoice().filter(
        subscription__account__organisation=admin.organisation
    )
    return invoice_issue(
        organisation=admin.organisation,
        period_ids=[period.pk for period in periods],
        issued_by=tcd,
    )


@pytest.fixture
def invoice(admin_a, cell, tcd):
    """Stad Gent's invoice: two accesses, no VAT number, no reference of its own."""
    return issued_invoice(admin=admin_a, cell=cell, tcd=tcd)


@pytest.fixture
def credit_note(invoice, tcd):
    return credit_note_issue(
        invoice=invoice, issued_by=tcd, reason="Dubbel gefactureerde toegang."
    )


@pytest.fixture
def province_admin(cell):
    """An admin of a province registered for VAT, under an agreement at 33.50 a
    year: VAT on three lines of 33.50 is 21.11, on each line 7.04."""
    authority = factories.ContractingAuthorityFactory(
        name="Provincie Antwerpen", short_name="PA"
    )
    factories.FrameworkAgreementFactory(
        contracting_authority=authority,
        reference="PA/ICMS/2024/001",
        yearly_price=Decimal("33.50"),
    )
    number = factories.enterprise_number("02075000")
    organisation = factories.OrganisationFactory(
        legal_name="Provincie Antwerpen",
        enterprise_number=number,
        vat_number=f"BE{number}",
        street="Koningin Elisabethlei 22",
        postcode="2018",
        city="Antwerpen",
        billing_email="facturen@provincieantwerpen.example.be",
        contracting_authority=authority,
    )
    return factories.OrganisationAdminFactory(organisation=organisation)


@pytest.fixture
def three_lines(province_admin, cell, tcd):
    return issued_invoice(
        admin=province_admin,
        cell=cell,
        tcd=tcd,
        quantity=3,
        purchase_order_reference="BC-2026/0457",
    )


@pytest.fixture(params=["invoice", "credit_note", "three_lines"])
def document(request):
    """Each kind of document, as ``(invoice, parsed UBL)``."""
    invoice = request.getfixturevalue(request.param)
    return invoice, parsed(invoice)


# The schema and the order of the elements


@pytest.mark.django_db
def test_it_builds_documents_the_ubl_schema_accepts(document):
    _invoice, root = document

    schema = ubl_schema(root)

    assert schema.validate(root), schema.error_log


@pytest.mark.django_db
def test_it_would_catch_an_element_out_of_order(invoice):
    root = parsed(invoice)
    due_date = one(root, "cbc:DueDate")
    one(root, "cbc:InvoiceTypeCode").addnext(due_date)

    assert not ubl_schema(root).validate(root)


@pytest.mark.django_db
def test_it_writes_the_invoice_elements_in_schema_order(invoice):
    root = parsed(invoice)

    assert etree.QName(root).namespace == NAMESPACES["inv"]
    assert children(root) == INVOICE_ORDER + ["InvoiceLine", "InvoiceLine"]
    assert text(root, "cbc:CustomizationID") == CUSTOMIZATION_ID
    assert text(root, "cbc:ProfileID") == PROFILE_ID
    assert text(root, "cbc:ID") == invoice.number
    assert text(root, "cbc:IssueDate") == invoice.issue_date.isoformat()
    assert text(root, "cbc:DueDate") == invoice.due_date.isoformat()
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    assert text(root, "cbc:DocumentCurrencyCode") == "EUR"
    assert children(one(root, "cac:PaymentMeans")) == PAYMENT_MEANS_ORDER
    assert children(one(root, "cac:PaymentMeans/cac:PayeeFinancialAccount")) == (
        ACCOUNT_ORDER
    )


@pytest.mark.django_db
def test_it_writes_the_credit_note_elements_in_schema_order(credit_note):
    root = parsed(credit_note)

    assert etree.QName(root).namespace == NAMESPACES["cn"]
    assert children(root) == CREDIT_NOTE_ORDER + ["CreditNoteLine", "CreditNoteLine"]
    assert text(root, "cbc:CreditNoteTypeCode") == "381"
    assert text(root, "cbc:Note") == "Dubbel gefactureerde toegang."
    assert not root.xpath("cbc:DueDate | cac:PaymentMeans", namespaces=NAMESPACES)


@pytest.mark.django_db
def test_it_writes_parties_totals_and_lines_in_schema_order(document):
    invoice, root = document
    quantity = "CreditedQuantity" if is_credit_note(root) else "InvoicedQuantity"

    supplier = one(root, "cac:AccountingSupplierParty/cac:Party")
    customer = one(root, "cac:AccountingCustomerParty/cac:Party")
    assert children(supplier) == PARTY_ORDER
    expected = PARTY_ORDER
    if not invoice.customer_vat_number:
        expected = [name for name in PARTY_ORDER if name != "PartyTaxScheme"]
    assert children(customer) == expected
    for party in (supplier, customer):
        assert children(one(party, "cac:PostalAddress")) == ADDRESS_ORDER
    assert children(one(supplier, "cac:PartyLegalEntity")) == LEGAL_ENTITY_ORDER
    assert children(one(customer, "cac:PartyLegalEntity")) == LEGAL_ENTITY_ORDER[:2]
    for subtotal in root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NAMESPACES):
        assert children(subtotal) == TAX_SUBTOTAL_ORDER
        assert children(one(subtotal, "cac:TaxCategory")) == TAX_CATEGORY_ORDER
    assert children(one(root, "cac:LegalMonetaryTotal")) == MONETARY_TOTAL_ORDER
    lines = root.xpath("cac:InvoiceLine | cac:CreditNoteLine", namespaces=NAMESPACES)
    assert len(lines) == invoice.lines.count()
    for line in lines:
        assert children(line) == [name.format(quantity=quantity) for name in LINE_ORDER]
        assert children(one(line, "cac:Item")) == ITEM_ORDER
        assert children(one(line, "cac:Item/cac:ClassifiedTaxCategory")) == (
            TAX_CATEGORY_ORDER
        )


@pytest.mark.django_db
def test_it_never_writes_an_empty_element(document):
    _invoice, root = document

    for element in root.iter():
        assert len(element) or (element.text or "").strip(), element.tag


# The sums


@pytest.mark.django_db
def test_it_adds_up_the_totals_as_the_rules_ask(document):
    invoice, root = document
    total = one(root, "cac:LegalMonetaryTotal")
    lines = root.xpath(
        "cac:InvoiceLine/cbc:LineExtensionAmount"
        " | cac:CreditNoteLine/cbc:LineExtensionAmount",
        namespaces=NAMESPACES,
    )
    tax_amount = amount(root, "cac:TaxTotal/cbc:TaxAmount")

    line_extension = amount(total, "cbc:LineExtensionAmount")
    assert line_extension == sum(Decimal(line.text) for line in lines)
    assert amount(total, "cbc:TaxExclusiveAmount") == line_extension
    assert amount(total, "cbc:TaxInclusiveAmount") == line_extension + tax_amount
    assert amount(total, "cbc:PayableAmount") == amount(total, "cbc:TaxInclusiveAmount")
    assert (line_extension, tax_amount, amount(total, "cbc:PayableAmount")) == (
        invoice.net_total,
        invoice.vat_total,
        invoice.gross_total,
    )


@pytest.mark.django_db
def test_it_computes_vat_on_each_categorys_taxable_total(document):
    _invoice, root = document
    subtotals = root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NAMESPACES)
    lines = root.xpath("cac:InvoiceLine | cac:CreditNoteLine", namespaces=NAMESPACES)

    assert len(root.xpath("cac:TaxTotal", namespaces=NAMESPACES)) == 1
    for subtotal in subtotals:
        category = text(subtotal, "cac:TaxCategory/cbc:ID")
        percent = Decimal(text(subtotal, "cac:TaxCategory/cbc:Percent"))
        in_category = [
            amount(line, "cbc:LineExtensionAmount")
            for line in lines
            if text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID") == category
            and Decimal(text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"))
            == percent
        ]
        taxable = amount(subtotal, "cbc:TaxableAmount")
        assert (category, percent) == ("S", Decimal(21))
        assert text(subtotal, "cac:TaxCategory/cac:TaxScheme/cbc:ID") == "VAT"
        assert taxable == sum(in_category)
        assert amount(subtotal, "cbc:TaxAmount") == (taxable * percent / 100).quantize(
            CENT, rounding=HALF_UP
        )
    assert amount(root, "cac:TaxTotal/cbc:TaxAmount") == sum(
        amount(subtotal, "cbc:TaxAmount") for subtotal in subtotals
    )


@pytest.mark.django_db
def test_it_rounds_vat_on_the_total_not_per_line(three_lines):
    root = parsed(three_lines)
    lines = root.xpath("cac:InvoiceLine", namespaces=NAMESPACES)
    per_line = sum(
        (amount(line, "cbc:LineExtensionAmount") * Decimal("0.21")).quantize(
            CENT, rounding=HALF_UP
        )
        for line in lines
    )

    # 21% of 100.50 is 21.105: half up 21.11, where each line's 7.035 gives 7.04.
    assert amount(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount") == Decimal(
        "100.50"
    )
    assert amount(root, "cac:TaxTotal/cbc:TaxAmount") == Decimal("21.11")
    assert per_line == Decimal("21.12")
    assert amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == Decimal("121.61")


@pytest.mark.django_db
def test_it_writes_every_amount_in_euro_with_two_decimals(document):
    _invoice, root = document
    amounts = root.xpath("//*[@currencyID]")

    assert amounts
    for element in amounts:
        assert element.get("currencyID") == "EUR"
        assert re.fullmatch(r"-?[0-9]+\.[0-9]{2}", element.text), element.text


@pytest.mark.django_db
def test_it_writes_each_line_as_one_access_over_its_period(document):
    invoice, root = document
    lines = root.xpath("cac:InvoiceLine | cac:CreditNoteLine", namespaces=NAMESPACES)
    stored = list(invoice.lines.order_by("position"))

    header_start = text(root, "cac:InvoicePeriod/cbc:StartDate")
    header_end = text(root, "cac:InvoicePeriod/cbc:EndDate")
    assert header_start == min(line.service_start for line in stored).isoformat()
    assert header_end == max(line.service_end for line in stored).isoformat()
    for line, element in zip(stored, lines, strict=True):
        quantity = one(element, "cbc:InvoicedQuantity | cbc:CreditedQuantity")
        assert text(element, "cbc:ID") == str(line.position)
        # UN/ECE recommendation 20: C62 is "one".
        assert quantity.get("unitCode") == "C62"
        assert Decimal(quantity.text) == line.quantity
        assert amount(element, "cbc:LineExtensionAmount") == line.net_amount
        assert amount(element, "cac:Price/cbc:PriceAmount") == line.unit_price
        assert Decimal(quantity.text) * line.unit_price == line.net_amount
        assert text(element, "cac:Item/cbc:Name") == line.description
        start = text(element, "cac:InvoicePeriod/cbc:StartDate")
        end = text(element, "cac:InvoicePeriod/cbc:EndDate")
        assert (start, end) == (
            line.service_start.isoformat(),
            line.service_end.isoformat(),
        )
        assert header_start <= start <= end <= header_end


# The parties, the payment and the references


@pytest.mark.django_db
def test_it_identifies_both_parties_by_their_enterprise_number(document):
    invoice, root = document
    supplier = one(root, "cac:AccountingSupplierParty/cac:Party")
    customer = one(root, "cac:AccountingCustomerParty/cac:Party")

    for party, number in [
        (supplier, "0403170701"),
        (customer, invoice.customer_enterprise_number),
    ]:
        for path in ("cbc:EndpointID", "cac:PartyLegalEntity/cbc:CompanyID"):
            identifier = one(party, path)
            assert identifier.get("schemeID") == "0208"
            assert identifier.text == number
            assert re.fullmatch(r"[0-9]{10}", number)
            assert 97 - int(number[:8]) % 97 == int(number[8:])
            assert belgian_enterprise_number.is_valid(number)
    assert text(supplier, "cac:PartyName/cbc:Name") == "TCD Crisis Systems"
    assert text(supplier, "cac:PartyLegalEntity/cbc:RegistrationName") == (
        "TCD Crisis Systems NV"
    )
    assert text(supplier, "cac:PartyLegalEntity/cbc:CompanyLegalForm") == (
        "NV, RPR Brussel"
    )
    assert text(supplier, "cac:Contact/cbc:ElectronicMail") == (
        "invoices@tcd.example.com"
    )
    assert text(customer, "cac:PartyLegalEntity/cbc:RegistrationName") == (
        invoice.customer_name
    )
    assert text(customer, "cac:Contact/cbc:ElectronicMail") == invoice.customer_email
    assert text(customer, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == (
        "BE"
    )


@pytest.mark.django_db
def test_it_gives_a_vat_number_only_to_a_party_registered_for_vat(invoice, three_lines):
    province_vat = f"BE{three_lines.customer_enterprise_number}"
    for document, customer_vat in [(invoice, None), (three_lines, province_vat)]:
        root = parsed(document)
        supplier_vat = one(
            root, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme"
        )
        customer_vat_schemes = root.xpath(
            "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme",
            namespaces=NAMESPACES,
        )

        assert text(supplier_vat, "cbc:CompanyID") == "BE0403170701"
        assert text(supplier_vat, "cac:TaxScheme/cbc:ID") == "VAT"
        if customer_vat is None:
            assert customer_vat_schemes == []
        else:
            (scheme,) = customer_vat_schemes
            assert text(scheme, "cbc:CompanyID") == customer_vat
            assert text(scheme, "cac:TaxScheme/cbc:ID") == "VAT"


@pytest.mark.django_db
def test_it_asks_payment_by_transfer_with_the_structured_communication(invoice):
    means = one(parsed(invoice), "cac:PaymentMeans")
    payment_id = text(means, "cbc:PaymentID")
    digits = re.sub(r"[+/]", "", payment_id)

    assert text(means, "cbc:PaymentMeansCode") == "30"
    assert re.fullmatch(r"\+\+\+[0-9]{3}/[0-9]{4}/[0-9]{5}\+\+\+", payment_id)
    assert digits == invoice.structured_communication
    assert int(digits[10:]) == (int(digits[:10]) % 97 or 97)
    assert text(means, "cac:PayeeFinancialAccount/cbc:ID") == "BE71096123456769"
    assert text(
        means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"
    ) == ("GKCCBEBB")


@pytest.mark.django_db
def test_it_gives_every_document_a_buyer_or_an_order_reference(document):
    invoice, root = document

    buyer_reference = text(root, "cbc:BuyerReference")
    assert buyer_reference
    assert buyer_reference == (invoice.buyer_reference or invoice.order_form_reference)
    assert text(root, "cac:OrderReference/cbc:ID") == invoice.order_form_reference


@pytest.mark.django_db
def test_it_takes_the_customers_own_reference_before_the_order_form(
    invoice, three_lines
):
    assert text(parsed(three_lines), "cbc:BuyerReference") == "BC-2026/0457"
    assert invoice.buyer_reference == ""
    assert text(parsed(invoice), "cbc:BuyerReference") == invoice.order_form_reference


@pytest.mark.django_db
def test_it_refers_the_credit_note_to_the_invoice_it_corrects(invoice, credit_note):
    root = parsed(credit_note)
    reference = one(root, "cac:BillingReference/cac:InvoiceDocumentReference")

    assert text(reference, "cbc:ID") == invoice.number
    assert text(reference, "cbc:IssueDate") == invoice.issue_date.isoformat()
    assert text(root, "cbc:ID") == credit_note.number
    assert text(root, "cbc:BuyerReference") == invoice.order_form_reference


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_enterprise_number", "0207451228"),
        ("customer_enterprise_number", ""),
        ("customer_vat_number", "BE0207451228"),
        ("supplier", "0403170702"),
        ("supplier", "403170701"),
    ],
)
def test_it_refuses_an_enterprise_number_with_wrong_check_digits(invoice, field, value):
    # Changed in memory only: an issued invoice is never saved again.
    if field == "supplier":
        invoice.supplier = {**invoice.supplier, "enterprise_number": value}
    else:
        setattr(invoice, field, value)

    with pytest.raises(UblError, match="enterprise number"):
        invoice_ubl_build(invoice)


@pytest.mark.django_db
def test_it_names_the_customer_when_it_gave_no_reference_and_signed_no_order_form(
    invoice,
):
    # Accesses from before the portal: no order form, no purchase order.
    invoice.order_form_reference = ""
    invoice.buyer_reference = ""

    root = parsed(invoice)

    assert text(root, "cbc:BuyerReference") == (
        f"ICMS {invoice.customer_enterprise_number}"
    )
    assert root.xpath("cac:OrderReference", namespaces=NAMESPACES) == []


# Stored once, attached, downloaded


@pytest.mark.django_db
def test_it_stores_the_e_invoice_once_and_returns_it_again(invoice, media):
    first = invoice_ubl_ensure(invoice)

    invoice.refresh_from_db()
    assert invoice.ubl.name == f"invoices/{invoice.issue_date:%Y}/{invoice.number}.xml"
    assert first.startswith(b"<?xml")

    def build_again(invoice):
        raise AssertionError("A stored e-invoice is never built again.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("invoicing.ubl.invoice_ubl_build", build_again)
        second = invoice_ubl_ensure(Invoice.objects.get(pk=invoice.pk))

    assert second == first


@pytest.mark.django_db
def test_it_keeps_the_first_stored_e_invoice_when_two_workers_build(invoice, media):
    first_worker = Invoice.objects.get(pk=invoice.pk)
    second_worker = Invoice.objects.get(pk=invoice.pk)

    stored = invoice_ubl_ensure(first_worker)
    returned = invoice_ubl_ensure(second_worker)

    assert returned == stored
    assert second_worker.ubl.name == first_worker.ubl.name
    files = list(Path(media).rglob("*.xml"))
    assert [file.name for file in files] == [f"{invoice.number}.xml"]


@pytest.mark.django_db
def test_it_attaches_the_stored_e_invoice(invoice, media):
    filename, content, mimetype = attachment_produce(
        {"kind": "invoice_ubl", "id": invoice.pk}
    )

    assert filename == f"{invoice.number}.xml"
    assert mimetype == "application/xml"
    assert content == invoice_ubl_attachment(invoice.pk)[1]
    invoice.refresh_from_db()
    assert invoice.ubl


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_it_emails_the_pdf_and_the_e_invoice_together(request, kind, media):
    document = request.getfixturevalue(kind)
    email = OutgoingEmail.objects.get(key=f"{kind}.issued:{document.pk}")

    outgoing_email_send(email_pk=email.pk)

    (message,) = mail.outbox
    assert [(name, mimetype) for name, _content, mimetype in message.attachments] == [
        (f"{document.number}.pdf", "application/pdf"),
        (f"{document.number}.xml", "application/xml"),
    ]
    document.refresh_from_db()
    assert message.attachments[1][1] == invoice_ubl_ensure(document)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("visitor", "status"),
    [("admin_a", 200), ("tcd", 200), ("admin_b", 404), ("cell", 403)],
)
def test_it_serves_the_e_invoice_to_the_right_people_only(
    request, client, invoice, media, visitor, status
):
    client.force_login(request.getfixturevalue(visitor))

    response = client.get(
        reverse("invoicing:invoice_ubl_download", kwargs={"pk": invoice.pk})
    )

    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/xml"
        assert f'filename="{invoice.number}.xml"' in response["Content-Disposition"]
        assert response.getvalue() == invoice_ubl_ensure(invoice)
        response.close()


@pytest.mark.django_db
def test_it_links_the_e_invoice_beside_the_pdf(client, admin_a, invoice):
    client.force_login(admin_a)

    response = client.get(
        reverse("invoicing:invoice_detail", kwargs={"pk": invoice.pk})
    )

    assert (
        reverse("invoicing:invoice_ubl_download", kwargs={"pk": invoice.pk})
        in response.content.decode()
    )
