from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def form_add_service_error(form, error: ValidationError):
    """Show a service's ValidationError on the form: beside the field it names
    when the form has that field, at the top otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields else None
        if field == NON_FIELD_ERRORS:
            target = None
        form.add_error(target, errors)


def messages_add_service_error(request, error: ValidationError):
    """Show a service's refusal at the top of the next page, for actions that
    have no form of their own (a button)."""
    from django.contrib import messages

    for message in error.messages:
        messages.error(request, message)
