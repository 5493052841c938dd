"""A service's refusal shown where the person typed: each error of a
ValidationError at its form field, and one naming no field of the form (or
none at all) at the top of the form."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def errors_to_form(form, error: ValidationError) -> None:
    """Add ``error`` (a service's ValidationError) to ``form``, what it says
    kept: at the named field when the form has it, else as a non-field error."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
