"""The invoice as an e-invoice: UBL 2.1 per Peppol BIS Billing 3.0 (EN 16931).

Built from the invoice's own snapshot, like its PDF, stored once and sent as
is. The UBL schema fixes the order of every element, so each function below
writes its elements in that order. An element is never written empty: Peppol
refuses empty elements, so a blank optional value leaves its element out.
"""

import logging
import re
from decimal import Decimal

from lxml import etree
from stdnum import iban
from stdnum.be import vat as belgian_enterprise_number

from .models import Invoice
from .money import ZERO, round_money

logger = logging.getLogger(__name__)

INVOICE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

CUSTOMIZATION_ID = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_TYPE_CODE = "380"
CREDIT_NOTE_TYPE_CODE = "381"

# The Peppol scheme of the Belgian enterprise number, for the electronic
# address and for the legal registration of both parties.
ENTERPRISE_NUMBER_SCHEME = "0208"
# UN/ECE recommendation 20 "one": a line is one access, its period says which
# year, so the quantity counts accesses rather than years.
UNIT_CODE = "C62"
STANDARD_RATE = "S"
CREDIT_TRANSFER = "30"


class UblError(ValueError):
    """The invoice's details cannot make a valid e-invoice."""


def invoice_ubl_build(invoice) -> bytes:
    """The UBL ``Invoice`` or ``CreditNote`` of an issued invoice, as UTF-8 XML."""
    supplier = invoice.supplier
    lines = list(invoice.lines.order_by("position"))
    if not lines:
        raise UblError(f"{invoice.number} has no lines.")
    credit_note = invoice.is_credit_note
    namespace = CREDIT_NOTE_NAMESPACE if credit_note else INVOICE_NAMESPACE
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if credit_note else 'Invoice'}",
        nsmap={None: namespace, "cac": CAC, "cbc": CBC},
    )

    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    if credit_note:
        # A credit note is not paid by its customer: it has no due date.
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
        _cbc(root, "Note", invoice.credit_reason)
    else:
        _cbc(root, "DueDate", invoice.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    # Peppol wants a buyer reference or an order reference; the order form the
    # customer signed stands in when the customer gave no reference of its own.
    # Accesses from before the portal have neither: the customer's enterprise
    # number then tells the receiver whose ICMS accesses these are.
    buyer_reference = (
        invoice.buyer_reference
        or invoice.order_form_reference
        or f"ICMS {invoice.customer_enterprise_number}"
    )
    _cbc(root, "BuyerReference", buyer_reference)
    _period(
        root,
        start=min(line.service_start for line in lines),
        end=max(line.service_end for line in lines),
    )
    if invoice.order_form_reference:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.order_form_reference)
    if credit_note and invoice.corrects_id:
        corrected = invoice.corrects
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", corrected.number)
        _cbc(reference, "IssueDate", corrected.issue_date.isoformat())

    supplier_number = _enterprise_number(supplier.get("enterprise_number"), "TCD")
    registration_name = " ".join(
        part for part in (supplier.get("name"), supplier.get("legal_form")) if part
    )
    _party(
        _cac(root, "AccountingSupplierParty"),
        name=supplier.get("name"),
        registration_name=registration_name,
        street=supplier.get("street"),
        postcode=supplier.get("postcode"),
        city=supplier.get("city"),
        country=supplier.get("country") or "BE",
        enterprise_number=supplier_number,
        vat_number=f"BE{supplier_number}",
        legal_form=", ".join(
            part
            for part in (supplier.get("legal_form"), supplier.get("register"))
            if part
        ),
        email=supplier.get("email"),
    )
    _party(
        _cac(root, "AccountingCustomerParty"),
        name=invoice.customer_name,
        registration_name=invoice.customer_name,
        street=invoice.customer_street,
        postcode=invoice.customer_postcode,
        city=invoice.customer_city,
        country=invoice.customer_country,
        enterprise_number=_enterprise_number(
            invoice.customer_enterprise_number, invoice.customer_name
        ),
        vat_number=_vat_number(invoice.customer_vat_number, invoice.customer_name),
        email=invoice.customer_email,
    )
    if not credit_note:
        _payment_means(root, invoice, account_name=registration_name)

    _totals(root, invoice, lines)
    for line in lines:
        _line(root, line, credit_note=credit_note, currency=invoice.currency)

    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def _party(
    parent,
    *,
    name,
    registration_name,
    street,
    postcode,
    city,
    country,
    enterprise_number,
    vat_number,
    email,
    legal_form="",
):
    if not registration_name:
        raise UblError("Every party of an e-invoice has a name.")
    party = _cac(parent, "Party")
    _cbc(party, "EndpointID", enterprise_number, schemeID=ENTERPRISE_NUMBER_SCHEME)
    _cbc(_cac(party, "PartyName"), "Name", name)
    address = _cac(party, "PostalAddress")
    _cbc(address, "StreetName", street)
    _cbc(address, "CityName", city)
    _cbc(address, "PostalZone", postcode)
    _cbc(_cac(address, "Country"), "IdentificationCode", country)
    if vat_number:
        tax_scheme = _cac(party, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", vat_number)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal_entity = _cac(party, "PartyLegalEntity")
    _cbc(legal_entity, "RegistrationName", registration_name)
    _cbc(
        legal_entity,
        "CompanyID",
        enterprise_number,
        schemeID=ENTERPRISE_NUMBER_SCHEME,
    )
    # The legal form and the register are the seller's additional legal
    # information; a buyer has no such element in Peppol.
    _cbc(legal_entity, "CompanyLegalForm", legal_form)
    if email:
        _cbc(_cac(party, "Contact"), "ElectronicMail", email)


def _payment_means(root, invoice, *, account_name):
    supplier = invoice.supplier
    account_number = iban.compact(supplier.get("iban") or "")
    # The IBAN's own check digits only: python-stdnum's Belgian check also
    # looks the bank code up in its own list, which misses some banks.
    if not iban.is_valid(account_number, check_country=False):
        raise UblError(
            f"The supplier's IBAN {supplier.get('iban')!r} is missing or invalid."
        )
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", CREDIT_TRANSFER, name="Credit transfer")
    # The structured communication as printed, +++ddd/dddd/ddddd+++: Belgian
    # banking software reads it in that form.
    _cbc(means, "PaymentID", invoice.structured_communication_display)
    account = _cac(means, "PayeeFinancialAccount")
    _cbc(account, "ID", account_number)
    _cbc(account, "Name", account_name)
    if supplier.get("bic"):
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", supplier["bic"])


def _totals(root, invoice, lines):
    """The VAT breakdown and the document totals, which are the invoice's own.

    VAT is computed per rate on the rate's taxable total, as when the invoice
    was issued; a document whose sums differ from the stored totals would tell
    the customer another amount than its PDF, so it is refused.
    """
    currency = invoice.currency
    breakdown = invoice.vat_breakdown()
    line_total = sum((line.net_amount for line in lines), ZERO)
    if (
        line_total != invoice.net_total
        or sum((row["taxable"] for row in breakdown), ZERO) != invoice.net_total
        or sum((row["vat"] for row in breakdown), ZERO) != invoice.vat_total
        or invoice.net_total + invoice.vat_total != invoice.gross_total
    ):
        raise UblError(f"The lines of {invoice.number} do not add up to its totals.")

    tax_total = _cac(root, "TaxTotal")
    _amount(tax_total, "TaxAmount", invoice.vat_total, currency)
    for row in breakdown:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", row["taxable"], currency)
        _amount(subtotal, "TaxAmount", row["vat"], currency)
        _tax_category(subtotal, "TaxCategory", row["rate"])

    monetary_total = _cac(root, "LegalMonetaryTotal")
    _amount(monetary_total, "LineExtensionAmount", line_total, currency)
    _amount(monetary_total, "TaxExclusiveAmount", invoice.net_total, currency)
    _amount(monetary_total, "TaxInclusiveAmount", invoice.gross_total, currency)
    # Nothing is prepaid and nothing rounded: the amount due is the total.
    _amount(monetary_total, "PayableAmount", invoice.gross_total, currency)


def _line(root, line, *, credit_note, currency):
    element = _cac(root, "CreditNoteLine" if credit_note else "InvoiceLine")
    _cbc(element, "ID", line.position)
    _cbc(
        element,
        "CreditedQuantity" if credit_note else "InvoicedQuantity",
        _decimal(line.quantity),
        unitCode=UNIT_CODE,
    )
    _amount(element, "LineExtensionAmount", line.net_amount, currency)
    _period(element, start=line.service_start, end=line.service_end)
    item = _cac(element, "Item")
    _cbc(item, "Name", line.description)
    _tax_category(item, "ClassifiedTaxCategory", line.vat_rate)
    _amount(_cac(element, "Price"), "PriceAmount", line.unit_price, currency)


def _period(parent, *, start, end):
    period = _cac(parent, "InvoicePeriod")
    _cbc(period, "StartDate", start.isoformat())
    _cbc(period, "EndDate", end.isoformat())


def _tax_category(parent, name, rate):
    # Only the standard rate is invoiced. A zero rate would need category Z
    # or E and an exemption reason, which this document does not write yet.
    if Decimal(rate) <= 0:
        raise UblError(f"A VAT rate of {rate}% has no category in the e-invoice.")
    category = _cac(parent, name)
    _cbc(category, "ID", STANDARD_RATE)
    _cbc(category, "Percent", _decimal(rate))
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _enterprise_number(value, whose):
    """Ten digits with valid check digits, as Peppol checks under scheme 0208."""
    value = value or ""
    if not (
        re.fullmatch(r"[0-9]{10}", value) and belgian_enterprise_number.is_valid(value)
    ):
        raise UblError(
            f"The enterprise number {value!r} of {whose} is not ten digits with "
            "valid check digits."
        )
    return value


def _vat_number(value, whose):
    if value and value.startswith("BE"):
        _enterprise_number(value[2:], whose)
    return value


def _cac(parent, tag):
    return etree.SubElement(parent, f"{{{CAC}}}{tag}")


def _cbc(parent, tag, value, /, **attributes):
    if value is None or value == "":
        return None
    element = etree.SubElement(parent, f"{{{CBC}}}{tag}", attributes)
    element.text = str(value)
    return element


def _amount(parent, tag, value, currency):
    return _cbc(parent, tag, f"{round_money(value):f}", currencyID=currency)


def _decimal(value):
    """``Decimal("21.00")`` → ``"21"``, ``Decimal("10.50")`` → ``"10.5"``."""
    return f"{Decimal(value).normalize():f}"


def invoice_ubl_ensure(invoice) -> bytes:
    """The invoice's stored e-invoice, built and stored the first time it is
    needed, like its PDF."""
    from .documents import invoice_document_ensure

    return invoice_document_ensure(invoice, "ubl", "xml", invoice_ubl_build)


def invoice_ubl_attachment(invoice_id):
    """``(filename, content, mimetype)`` for the email that sends an invoice."""
    invoice = Invoice.objects.get(pk=invoice_id)
    return f"{invoice.number}.xml", invoice_ubl_ensure(invoice), "application/xml"
