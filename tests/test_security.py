"""The portal's door: passwords, the second factor, lockouts, sessions,
headers, re-authentication and the audit log."""

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.invitations import portal_user_invite
from accounts.models import Role, User
from audit.models import AuditEntry
from notifications.models import OutgoingEmail

from . import factories
from .conftest import force_login_without_second_factor

pytestmark = pytest.mark.django_db


def _code(device, at=None):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is not None:
        totp.time = at
    return f"{totp.token():0{device.digits}d}"


def _log_in(client, email, password=factories.PASSWORD, **headers):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, **headers
    )


class TestPasswords:
    @pytest.mark.parametrize(
        "password",
        ["short-pass1", "password1234", "123456789012"],
        ids=["eleven characters", "a common password", "only digits"],
    )
    def test_it_refuses_a_weak_password(self, password):
        with pytest.raises(ValidationError):
            validate_password(password)

    def test_it_refuses_a_password_like_the_persons_own_address(self, admin_a):
        with pytest.raises(ValidationError):
            validate_password("an.peeters@stad.gent", user=admin_a)

    def test_it_accepts_a_long_sentence_without_composition_rules(self, admin_a):
        validate_password("de kat slaapt op de vensterbank", user=admin_a)

    def test_it_invites_with_a_one_time_link_and_never_a_password(
        self, admin_a, django_capture_on_commit_callbacks, client
    ):
        with django_capture_on_commit_callbacks(execute=True):
            user = portal_user_invite(
                email="Els.Wouters@Stad.Gent.example.be",
                first_name="Els",
                last_name="Wouters",
                invited_by=admin_a,
            )

        message = mail.outbox[-1]
        link = re.search(r"http://\S+/password/set/\S+/", message.body).group(0)
        path = link.removeprefix("http://127.0.0.1:8000")
        assert not user.has_usable_password()
        assert user.organisation == admin_a.organisation
        stored = OutgoingEmail.objects.get(template="portal_user_invited")
        assert link not in stored.body_text
        # The link works once.
        form_page = client.get(path, follow=True)
        chosen = client.post(
            form_page.redirect_chain[-1][0],
            {
                "new_password1": "een lange zin als wachtwoord",
                "new_password2": "een lange zin als wachtwoord",
            },
        )
        again = client.get(path, follow=True)
        user.refresh_from_db()
        assert chosen.status_code == 302
        assert user.check_password("een lange zin als wachtwoord")
        assert "no longer works" in again.content.decode()

    def test_it_lets_an_admin_invite_only_admins_of_its_own_organisation(
        self, admin_a, organisation_b
    ):
        with pytest.raises(ValidationError):
            portal_user_invite(
                email="x@example.be",
                first_name="X",
                last_name="Y",
                role=Role.TCD,
                invited_by=admin_a,
            )
        user = portal_user_invite(
            email="y@example.be",
            first_name="Y",
            last_name="Z",
            organisation=organisation_b,
            invited_by=admin_a,
        )

        assert user.organisation == admin_a.organisation


@pytest.mark.parametrize("persona", ["admin_a", "cell", "tcd"])
class TestSecondFactor:
    def test_it_sends_a_login_without_second_factor_to_its_set_up(
        self, persona, request, client
    ):
        user = request.getfixturevalue(persona)

        _log_in(client, user.email)
        response = client.get(reverse("home"))

        assert response.status_code == 302
        assert response.headers["Location"].startswith(
            reverse("accounts:second_factor_setup")
        )

    def test_it_lets_in_after_a_valid_code_only(self, persona, request, client):
        user = request.getfixturevalue(persona)
        device = TOTPDevice.objects.create(user=user, name="authenticator")
        _log_in(client, user.email)

        with time_machine.travel(timezone.now(), tick=False) as traveller:
            wrong = client.post(
                reverse("accounts:second_factor_verify"), {"token": "000000"}
            )
            blocked = client.get(reverse("subscriptions:access_list"))
            # django-otp makes each failure wait a little longer.
            traveller.shift(timedelta(seconds=2))
            right = client.post(
                reverse("accounts:second_factor_verify"), {"token": _code(device)}
            )
            allowed = client.get(reverse("subscriptions:access_list"))

        assert wrong.context["form"].errors["token"]
        assert blocked.status_code == 302
        assert right.status_code == 302
        assert allowed.status_code == 200
        assert AuditEntry.objects.filter(
            action="login.second_factor_failed", actor=user
        ).exists()


def test_it_sets_up_an_authenticator_and_gives_recovery_codes_that_work_once(
    admin_a, client
):
    _log_in(client, admin_a.email)
    setup = client.get(reverse("accounts:second_factor_setup"))
    device = TOTPDevice.objects.get(user=admin_a, confirmed=False)

    confirmed = client.post(
        reverse("accounts:second_factor_setup"), {"token": _code(device)}, follow=True
    )
    codes = re.findall(r"<code>([a-z0-9]+)</code>", confirmed.content.decode())
    client.post(reverse("accounts:logout"))
    _log_in(client, admin_a.email)
    first_use = client.post(
        reverse("accounts:second_factor_verify"), {"token": codes[0]}
    )
    client.post(reverse("accounts:logout"))
    _log_in(client, admin_a.email)
    second_use = client.post(
        reverse("accounts:second_factor_verify"), {"token": codes[0]}
    )

    assert 'src="data:image/svg+xml;base64,' in setup.content.decode()
    assert len(codes) == 10
    assert first_use.status_code == 302
    assert second_use.status_code == 200
    assert StaticToken.objects.filter(device__user=admin_a).count() == 9


def test_it_keeps_the_django_admin_behind_the_second_factor(client):
    superuser = User.objects.create_superuser(
        "root@tcd.example.com", factories.PASSWORD, first_name="R", last_name="Oot"
    )
    force_login_without_second_factor(client, superuser)

    response = client.get("/django-admin/")

    assert response.status_code == 302
    assert "/security/setup/" in response.headers["Location"]


class TestLockout:
    def test_it_locks_an_account_after_five_failures_whatever_the_forwarded_for(
        self, admin_a, client, settings
    ):
        settings.TRUSTED_PROXY_COUNT = 1
        for number in range(5):
            _log_in(
                client,
                admin_a.email.upper(),
                "wrong password!",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{number}, 203.0.113.7",
            )

        locked = _log_in(
            client, admin_a.email, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.8"
        )

        assert locked.status_code == 429
        assert "Too many failed logins" in locked.content.decode()
        assert AuditEntry.objects.filter(action="login.locked_out").exists()
        assert AuditEntry.objects.filter(action="login.failed").count() >= 4

    def test_it_keys_the_address_on_the_trusted_proxy_hop_not_the_clients_claim(
        self, admin_a, admin_b, client, settings
    ):
        settings.TRUSTED_PROXY_COUNT = 1
        for number in range(5):
            _log_in(
                client,
                f"nobody{number}@example.be",
                "wrong password!",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{number}, 203.0.113.7",
            )

        # Another account from the same real address is locked out too, though
        # the client rotated what it claims.
        from_same_address = _log_in(
            client, admin_b.email, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7"
        )
        from_elsewhere = _log_in(
            client, admin_b.email, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.50"
        )

        assert from_same_address.status_code == 429
        assert from_elsewhere.status_code == 302

    def test_it_unlocks_by_itself_after_the_cool_off(self, admin_a, client):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            for _number in range(5):
                _log_in(client, admin_a.email, "wrong password!")
            locked = _log_in(client, admin_a.email)
            traveller.shift(timedelta(minutes=16))
            unlocked = _log_in(client, admin_a.email)

        assert locked.status_code == 429
        assert unlocked.status_code == 302

    def test_it_can_be_unlocked_by_staff(self, admin_a, client):
        from axes.utils import reset

        for _number in range(5):
            _log_in(client, admin_a.email, "wrong password!")

        reset(username=admin_a.email.lower())
        reset(ip="127.0.0.1")

        assert _log_in(client, admin_a.email).status_code == 302


class TestSessions:
    def test_it_ends_a_session_after_thirty_idle_minutes(self, admin_a, client):
        client.force_login(admin_a)

        client.get(reverse("subscriptions:access_list"))

        assert client.session.get_expiry_age() == 30 * 60

    def test_it_ends_a_session_twelve_hours_after_login_however_active(
        self, admin_a, client
    ):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            client.force_login(admin_a)
            first = client.get(reverse("subscriptions:access_list"))
            for _hour in range(12):
                traveller.shift(timedelta(minutes=59))
                client.get(reverse("subscriptions:access_list"))
            traveller.shift(timedelta(hours=1))
            late = client.get(reverse("subscriptions:access_list"))

        assert first.status_code == 200
        assert late.status_code == 302
        assert reverse("accounts:login") in late.headers["Location"]

    def test_it_asks_for_password_and_code_again_before_an_email_change(
        self, admin_a, client
    ):
        client.force_login(admin_a)
        device = TOTPDevice.objects.get(user=admin_a)

        asked = client.get(reverse("accounts:email_change"))
        wrong = client.post(
            reverse("accounts:reauthenticate"),
            {"password": "not it at all", "token": _code(device)},
        )
        confirmed = client.post(
            reverse("accounts:reauthenticate") + "?next=/profile/email/",
            {"password": factories.PASSWORD, "token": _code(device)},
        )
        changed = client.post(
            reverse("accounts:email_change"), {"email": "an.nieuw@stad.gent.example.be"}
        )

        admin_a.refresh_from_db()
        assert reverse("accounts:reauthenticate") in asked.headers["Location"]
        assert wrong.context["form"].errors["password"]
        assert confirmed.headers["Location"] == "/profile/email/"
        assert changed.status_code == 302
        assert admin_a.email == "an.nieuw@stad.gent.example.be"
        assert AuditEntry.objects.filter(action="portal_user.email_changed").exists()


def test_it_sends_strict_security_headers(admin_a, client):
    client.force_login(admin_a)

    response = client.get(reverse("subscriptions:access_list"))

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


class TestAuditLog:
    def test_it_records_logins_failures_denials_and_foreign_objects(
        self, admin_a, admin_b, cell, client
    ):
        access_request = factories.submitted_access_request(admin=admin_a)
        _log_in(client, admin_b.email, "wrong password!")
        client.force_login(admin_b)
        client.get(reverse("orders:request_detail", args=[access_request.pk]))
        client.get(reverse("orders:cell_queue"))

        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"login.failed", "permission.not_found", "permission.denied"} <= actions
        denial = AuditEntry.objects.get(action="permission.not_found")
        assert denial.actor == admin_b
        assert denial.client_address == "127.0.0.1"

    def test_it_lets_staff_filter_and_export_and_nobody_else(
        self, admin_a, cell, tcd, client
    ):
        factories.submitted_access_request(admin=admin_a)
        admin_a.first_name = "=HYPERLINK(1)"
        client.force_login(tcd)

        page = client.get(
            reverse("audit:audit_log"), {"action": "access_request.submitted"}
        )
        export = client.get(
            reverse("audit:audit_export"), {"action": "access_request.submitted"}
        )
        client.force_login(admin_a)
        refused = client.get(reverse("audit:audit_log"))

        rows = list(
            csv.reader(io.StringIO(b"".join(export.streaming_content).decode()))
        )
        assert list(page.context["page"])[0].action == "access_request.submitted"
        assert rows[0][0].lstrip("\ufeff") == "at"
        assert [row[1] for row in rows[1:]] == ["access_request.submitted"]
        assert refused.status_code == 403

    def test_it_neutralises_formula_cells_in_the_export(
        self, tcd, client, organisation_a
    ):
        from audit.services import audit_record

        audit_record(
            action="test.entry",
            summary="=cmd|' /C calc'!A0",
            organisation=organisation_a,
        )
        client.force_login(tcd)

        export = client.get(reverse("audit:audit_export"), {"action": "test.entry"})

        rows = list(
            csv.reader(io.StringIO(b"".join(export.streaming_content).decode()))
        )
        assert rows[1][5] == "'=cmd|' /C calc'!A0"


def test_it_remembers_the_language_a_person_switches_to(admin_a, client):
    client.force_login(admin_a)

    client.post(reverse("set_language"), {"language": "fr", "next": "/accesses/"})
    page = client.get(reverse("subscriptions:access_list"))

    admin_a.refresh_from_db()
    assert admin_a.language == "fr"
    assert '<html lang="fr">' in page.content.decode()
