import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .second_factor import user_has_second_factor

LOGIN_AT_SESSION_KEY = "portal_login_at"


class UserLanguageMiddleware:
    """Serve a logged-in person in the language of their profile.

    Sits after AuthenticationMiddleware; LocaleMiddleware before it has already
    chosen a language from the browser for anonymous visitors.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not (user.is_authenticated and user.language):
            return self.get_response(request)
        browser_language = translation.get_language()
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
        try:
            response = self.get_response(request)
        finally:
            # The thread serves the next request, or test, in its own language.
            translation.activate(browser_language)
        response.headers["Content-Language"] = user.language
        return response


class SessionLimitsMiddleware:
    """End a session 12 hours after its login, however active it was.

    The idle limit is the session cookie's age, renewed on every request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(LOGIN_AT_SESSION_KEY)
            now = time.time()
            if started is None:
                request.session[LOGIN_AT_SESSION_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, _("Your session has ended; log in again."))
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


# Pages a logged-in person may open before confirming the second factor.
SECOND_FACTOR_EXEMPT_URLS = (
    "accounts:second_factor_verify",
    "accounts:second_factor_setup",
    "accounts:logout",
    "set_language",
)


class SecondFactorRequiredMiddleware:
    """Every logged-in person confirms a second factor before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.SECOND_FACTOR_REQUIRED
            and user.is_authenticated
            and not user.is_verified()
            and not self._exempt(request.path_info)
        ):
            target = (
                "accounts:second_factor_verify"
                if user_has_second_factor(user)
                else "accounts:second_factor_setup"
            )
            return redirect(
                f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)

    def _exempt(self, path):
        if path.startswith(("/" + settings.STATIC_URL.lstrip("/"), "/anymail/")):
            return True
        return any(path == reverse(name) for name in SECOND_FACTOR_EXEMPT_URLS)
