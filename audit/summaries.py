"""Audit summaries that every reader sees in their own language.

A summary is stored as its English message and its parameters, and translated
when it is shown: the Dutch admin reads the timeline in Dutch, the French one
in French, whoever took the step. Dates are kept as dates and shown in the
reader's format; labels (a status, a channel) are translated too.

``makemessages`` (the project's own, in accounts/management/commands) finds the
messages of ``Summary(...)`` and ``PluralSummary(...)`` like any gettext call.
"""

from datetime import date

from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext


class Summary:
    """``Summary("Refused: %(reason)s", reason=reason)``."""

    def __init__(self, message, **params):
        self.message = message
        self.plural = ""
        self.count_param = ""
        self.params = params

    def stored(self):
        """The JSON kept with the entry: the message and typed parameters."""
        params, kinds = {}, {}
        with translation.override("en"):
            for name, value in self.params.items():
                if isinstance(value, date):
                    params[name], kinds[name] = value.isoformat(), "date"
                elif isinstance(value, Promise):
                    params[name], kinds[name] = str(value), "label"
                elif isinstance(value, int):
                    params[name] = value
                else:
                    params[name] = str(value)
        return {
            "message": self.message,
            "plural": self.plural,
            "count_param": self.count_param,
            "params": params,
            "kinds": kinds,
        }


class PluralSummary(Summary):
    """``PluralSummary("%(count)s line", "%(count)s lines", "count", count=3)``:
    the form follows the number in ``count_param``, as ngettext chooses it."""

    def __init__(self, singular, plural, count_param, **params):
        super().__init__(singular, **params)
        self.plural = plural
        self.count_param = count_param


def summary_render(stored, language=None):
    """The summary in ``language``, by default the active one."""
    if not stored or not stored.get("message"):
        return ""
    if language is None:
        return _render(stored)
    with translation.override(language):
        return _render(stored)


def _render(stored):
    params = {}
    for name, value in stored.get("params", {}).items():
        kind = stored.get("kinds", {}).get(name)
        if kind == "date":
            params[name] = date_format(date.fromisoformat(value))
        elif kind == "label":
            params[name] = gettext(value)
        else:
            params[name] = value
    if stored.get("plural"):
        count = params.get(stored["count_param"], 0)
        message = ngettext(stored["message"], stored["plural"], count)
        english = stored["message"] if count == 1 else stored["plural"]
    else:
        message = gettext(stored["message"])
        english = stored["message"]
    try:
        return message % params
    except (KeyError, TypeError, ValueError):
        # A translation that lost a placeholder must not hide the entry.
        return english % params
