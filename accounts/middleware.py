from django.utils import translation


class UserLanguageMiddleware:
    """Serve a logged-in person in the language of their profile.

    Sits after AuthenticationMiddleware; LocaleMiddleware before it has already
    chosen a language from the browser for anonymous visitors.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
