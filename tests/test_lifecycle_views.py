"""The pages of an access's life: its dates, cancelling it after being told when
it stops, withdrawing, closure by TCD and removal by the ICMS cell."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from subscriptions.models import (
    CancellationChannel,
    ClosureReason,
    IcmsAccountStatus,
    SubscriptionStatus,
)
from subscriptions.services import subscription_cancel, subscription_close

from .lifecycle_helpers import (
    additional_access,
    additional_accesses,
    nothing_written,
    on_day,
    reloaded,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(admin_a):
    """Stad Gent's admin, reading the portal in English."""
    admin_a.language = "en"
    admin_a.save(update_fields=["language"])
    return admin_a


@pytest.fixture
def staff(cell, tcd):
    for user in (cell, tcd):
        user.language = "en"
        user.save(update_fields=["language"])
    return {"cell": cell, "tcd": tcd}


@pytest.fixture
def access(admin, cell):
    """An additional access of Stad Gent, activated on 1 January 2026."""
    return additional_access(
        admin=admin,
        cell=cell,
        activation_date=date(2026, 1, 1),
        username="gent.officier1",
    )


def cancel(account, admin, day):
    with on_day(day):
        return subscription_cancel(
            subscription=account.subscription,
            channel=CancellationChannel.PORTAL,
            registered_by=admin,
        )


def page(client, user, name, account, day=date(2026, 11, 20), method="get", data=None):
    if client.session.get("_auth_user_id") != str(user.pk):
        client.force_login(user)
    url = reverse(f"subscriptions:{name}", args=[account.pk])
    with on_day(day):
        return getattr(client, method)(url, data or {})


def plain(html):
    """Text without its tags: inline ones go, the others leave a space."""
    html = re.sub(r"</?(strong|em|a|span)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def text(response):
    return plain(response.content.decode())


def row(response, username):
    """The text of the access list's row for one ICMS account."""
    rows = re.findall(r"<tr>.*?</tr>", response.content.decode(), re.DOTALL)
    [found] = [found for found in rows if f">{username}</a>" in found]
    return plain(found)


class TestDates:
    def test_it_shows_the_admin_the_dates_of_every_access(self, client, admin, cell):
        running, on_time, late = additional_accesses(
            admin=admin,
            cell=cell,
            activation_date=date(2026, 1, 1),
            usernames=["gent.officier1", "gent.officier2", "gent.officier3"],
        )
        cancel(on_time, admin, date(2026, 11, 10))
        cancel(late, admin, date(2026, 11, 18))
        client.force_login(admin)

        with on_day(date(2026, 11, 20)):
            response = client.get(reverse("subscriptions:access_list"))

        assert response.status_code == 200
        period = "01/01/2026 – 31/12/2026"
        assert row(response, "gent.officier1") == (
            f"gent.officier1 Jan Janssens 1 User {period} 16/11/2026 01/01/2027 Active"
        )
        assert row(response, "gent.officier2") == (
            f"gent.officier2 Jan Janssens 2 User {period} 16/11/2026 — "
            "Cancelled: stops after 31/12/2026"
        )
        # Cancelled late, it renews once more before it stops.
        assert row(response, "gent.officier3") == (
            f"gent.officier3 Jan Janssens 3 User {period} 16/11/2026 01/01/2027 "
            "Cancelled: stops after 31/12/2027"
        )

    def test_it_shows_the_cancellation_and_stop_date_of_an_access(
        self, client, admin, access
    ):
        cancel(access, admin, date(2026, 11, 10))

        response = page(client, admin, "access_detail", access)

        assert response.status_code == 200
        dates = response.context["dates"]
        assert dates["current_period"].start == date(2026, 1, 1)
        assert dates["last_day_to_cancel"] == date(2026, 11, 16)
        assert dates["next_renewal"] is None
        assert dates["cancellation"].stop_date == date(2026, 12, 31)
        content = text(response)
        assert "Current period 01/01/2026 – 31/12/2026 (365 days)" in content
        assert "Last day to cancel 16/11/2026" in content
        assert "Next renewal none: a cancellation is registered" in content
        assert "Access stops after 31/12/2026" in content
        assert "10/11/2026 09:00 In the portal An Peeters 31/12/2026 —" in content

    def test_it_shows_the_next_renewal_of_an_access_cancelled_late(
        self, client, admin, access
    ):
        cancel(access, admin, date(2026, 11, 18))

        response = page(client, admin, "access_detail", access)

        content = text(response)
        assert "Next renewal 01/01/2027" in content
        assert "Access stops after 31/12/2027" in content

    def test_it_shows_the_staff_the_same_dates(self, client, admin, access, staff):
        cancel(access, admin, date(2026, 11, 10))
        admin_page = text(page(client, admin, "access_detail", access))

        for user in staff.values():
            response = page(client, user, "access_detail", access)

            assert response.status_code == 200
            content = text(response)
            for fact in [
                "Current period 01/01/2026 – 31/12/2026 (365 days)",
                "Last day to cancel 16/11/2026",
                "Access stops after 31/12/2026",
            ]:
                assert fact in admin_page
                assert fact in content

    def test_it_lists_accesses_in_the_same_number_of_queries_however_many(
        self, client, admin, cell
    ):
        client.force_login(admin)
        additional_accesses(
            admin=admin,
            cell=cell,
            activation_date=date(2026, 1, 1),
            usernames=["gent.officier1"],
        )
        with on_day(date(2026, 11, 20)), CaptureQueriesContext(connection) as one:
            client.get(reverse("subscriptions:access_list"))
        more = additional_accesses(
            admin=admin,
            cell=cell,
            activation_date=date(2026, 2, 1),
            usernames=["gent.officier2", "gent.officier3", "gent.officier4"],
        )
        cancel(more[0], admin, date(2026, 6, 1))

        with on_day(date(2026, 11, 20)), CaptureQueriesContext(connection) as four:
            client.get(reverse("subscriptions:access_list"))

        assert len(four) == len(one)


class TestCancelPage:
    def test_it_states_the_stop_date_before_an_on_time_cancellation(
        self, client, admin, access
    ):
        with nothing_written():
            response = page(
                client, admin, "access_cancel", access, day=date(2026, 11, 16)
            )

        assert response.status_code == 200
        assert (response.context["stop_date"], response.context["on_time"]) == (
            date(2026, 12, 31),
            True,
        )
        content = text(response)
        assert (
            "If you confirm today, the access stops after 31 December 2026, the end of "
            "its current period." in content
        )
        assert "Nothing is refunded" in content
        assert "Cancel: the access stops after 31/12/2026" in content

    def test_it_warns_that_a_late_cancellation_stops_the_access_a_year_later(
        self, client, admin, access
    ):
        with nothing_written():
            response = page(
                client, admin, "access_cancel", access, day=date(2026, 11, 17)
            )

        assert (response.context["stop_date"], response.context["on_time"]) == (
            date(2027, 12, 31),
            False,
        )
        content = text(response)
        assert (
            "The last day to cancel for the current period was 16 November 2026. The "
            "access therefore renews once more and stops after 31 December 2027, the "
            "end of the next period." in content
        )
        assert "Nothing is refunded" in content

    def test_it_cancels_on_confirmation(self, client, admin, access):
        response = page(
            client,
            admin,
            "access_cancel",
            access,
            day=date(2026, 11, 16),
            method="post",
        )

        assert response.status_code == 302
        assert response["Location"] == reverse(
            "subscriptions:access_detail", args=[access.pk]
        )
        cancellation = access.subscription.active_cancellation()
        assert cancellation.stop_date == date(2026, 12, 31)
        assert cancellation.registered_by == admin

    def test_it_refuses_a_second_cancellation_with_a_message(
        self, client, admin, access
    ):
        cancel(access, admin, date(2026, 11, 10))

        with nothing_written():
            response = page(client, admin, "access_cancel", access, method="post")

        assert response.status_code == 200
        assert "A cancellation is already registered for this access." in text(response)

    @pytest.mark.parametrize("someone", ["cell", "tcd"])
    def test_it_lets_only_an_admin_open_the_cancel_page(
        self, client, access, staff, someone
    ):
        get = page(client, staff[someone], "access_cancel", access)
        post = page(client, staff[someone], "access_cancel", access, method="post")

        assert (get.status_code, post.status_code) == (403, 403)
        assert not access.subscription.cancellations.exists()


class TestAnotherOrganisation:
    @pytest.mark.parametrize(
        ("name", "method"),
        [
            ("access_detail", "get"),
            ("access_cancel", "get"),
            ("access_cancel", "post"),
            ("cancellation_withdraw", "post"),
        ],
    )
    def test_it_answers_not_found_for_another_organisations_access(
        self, client, access, admin, admin_b, name, method
    ):
        cancel(access, admin, date(2026, 11, 10))
        client.force_login(admin_b)

        # Only the attempt is kept, in the audit log.
        with nothing_written(but=["AuditEntry"]):
            response = page(client, admin_b, name, access, method=method)

        assert response.status_code == 404
        assert AuditEntry.objects.filter(
            action="permission.not_found", actor=admin_b
        ).exists()

    def test_it_lists_only_the_organisations_own_accesses(
        self, client, access, admin_b
    ):
        client.force_login(admin_b)

        with on_day(date(2026, 11, 20)):
            response = client.get(reverse("subscriptions:access_list"))

        assert response.context["rows"] == []


class TestWithdrawClose:
    def test_it_withdraws_a_cancellation(self, client, admin, access):
        cancel(access, admin, date(2026, 11, 10))

        response = page(client, admin, "cancellation_withdraw", access, method="post")

        assert response.status_code == 302
        assert access.subscription.active_cancellation() is None

    def test_it_asks_tcd_who_requested_a_closure_for_an_authority(
        self, client, access, staff
    ):
        with nothing_written():
            response = page(
                client,
                staff["tcd"],
                "access_close",
                access,
                method="post",
                data={"reason": ClosureReason.AUTHORITY_REQUEST, "requested_by": ""},
            )

        assert response.status_code == 200
        assert response.context["form"].errors == {
            "requested_by": ["Name the authority that asked for the closure."]
        }

    def test_it_lets_tcd_close_an_access(self, client, access, staff):
        response = page(
            client,
            staff["tcd"],
            "access_close",
            access,
            method="post",
            data={
                "reason": ClosureReason.AUTHORITY_REQUEST,
                "requested_by": "FOD Binnenlandse Zaken",
                "note": "",
            },
        )

        assert response.status_code == 302
        account = reloaded(access)
        assert account.subscription.status == SubscriptionStatus.CLOSED
        assert account.subscription.ended_on == date(2026, 11, 20)
        assert account.status == IcmsAccountStatus.CLOSED
        content = text(page(client, staff["tcd"], "access_detail", access))
        assert (
            "Closed by TCD: Request of a competent authority. Requested by FOD "
            "Binnenlandse Zaken." in content
        )

    def test_it_lets_the_cell_remove_the_account_of_a_closed_access(
        self, client, access, staff
    ):
        with on_day(date(2026, 11, 20)):
            subscription_close(
                subscription=access.subscription,
                closed_by=staff["tcd"],
                reason=ClosureReason.SECURITY_RISK,
            )
        client.force_login(staff["cell"])

        listed = client.get(reverse("subscriptions:removals"))
        removed = client.post(reverse("subscriptions:removals"), {"account": access.pk})

        assert list(listed.context["accounts"]) == [access]
        assert "gent.officier1" in text(listed)
        assert removed.status_code == 302
        assert reloaded(access).status == IcmsAccountStatus.REMOVED
        assert (
            list(client.get(reverse("subscriptions:removals")).context["accounts"])
            == []
        )
