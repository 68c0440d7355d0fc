from django.db import migrations

# An issued invoice may only gain its stored documents and its payment status;
# its lines never change. Neither is ever deleted. The model refuses this too;
# the triggers hold it for any other client of the database.
FORBID = """
CREATE OR REPLACE FUNCTION invoice_is_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'issued invoices are never deleted';
    END IF;
    IF (to_jsonb(OLD) - 'pdf' - 'ubl' - 'payment_status')
        IS DISTINCT FROM (to_jsonb(NEW) - 'pdf' - 'ubl' - 'payment_status') THEN
        RAISE EXCEPTION 'issued invoices never change; issue a credit note';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_immutable
    BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoice_is_immutable();

CREATE OR REPLACE FUNCTION invoice_line_is_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'invoice lines never change and are never deleted';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_line_immutable
    BEFORE UPDATE OR DELETE ON invoicing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoice_line_is_immutable();
"""

ALLOW = """
DROP TRIGGER IF EXISTS invoice_immutable ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoice_is_immutable();
DROP TRIGGER IF EXISTS invoice_line_immutable ON invoicing_invoiceline;
DROP FUNCTION IF EXISTS invoice_line_is_immutable();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0002_payments_runs_ubl")]
    operations = [migrations.RunPython(forbid, allow)]
