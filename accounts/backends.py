from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Log in by email address, compared without regard to case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from .models import User

        email = (username or kwargs.get("email") or "").strip()
        if not email or password is None:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            # Spend the same time as a real check so the response time does
            # not tell which addresses have an account.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
