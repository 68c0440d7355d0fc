"""Load a small, realistic demo: organisations, one login per role, and a few
requests at different steps, so every screen has something to show."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Configuration, Language, Organisation, Role, User
from invoicing.models import ContractingAuthority, FrameworkAgreement, PriceAmendment
from orders import services as orders
from subscriptions import periods
from subscriptions.models import IcmsAccount, Subscription, SubscriptionPeriod

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - printed for the demo on purpose

ORGANISATIONS = [
    # legal name, enterprise number, street, postcode, city, language, base package
    ("Stad Gent", "0207451326", "Botermarkt 1", "9000", "Gent", Language.DUTCH, 25),
    (
        "Ville de Liège",
        "0216375524",
        "Place du Marché 2",
        "4000",
        "Liège",
        Language.FRENCH,
        20,
    ),
    (
        "Hulpverleningszone Antwerpen",
        "0207902276",
        "Noorderlaan 215",
        "2030",
        "Antwerpen",
        Language.DUTCH,
        40,
    ),
    (
        "Zone de secours Hainaut-Centre",
        "0250482506",
        "Rue de la Station 1",
        "7100",
        "La Louvière",
        Language.FRENCH,
        30,
    ),
    (
        "Provincie Limburg",
        "0267402274",
        "Universiteitslaan 1",
        "3500",
        "Hasselt",
        Language.DUTCH,
        15,
    ),
]

PEOPLE = {
    "admin.gent@example.be": (
        "An",
        "Claes",
        Role.ORGANISATION_ADMIN,
        "Stad Gent",
        Language.DUTCH,
    ),
    "admin.liege@example.be": (
        "Élise",
        "Dubois",
        Role.ORGANISATION_ADMIN,
        "Ville de Liège",
        Language.FRENCH,
    ),
    "admin.antwerpen@example.be": (
        "Koen",
        "Wouters",
        Role.ORGANISATION_ADMIN,
        "Hulpverleningszone Antwerpen",
        Language.DUTCH,
    ),
    "cell@ibz.example.be": ("Pieter", "Maes", Role.ICMS_CELL, None, Language.DUTCH),
    "tcd@tcd.example.com": ("Sophie", "Lambert", Role.TCD, None, Language.ENGLISH),
}


class Command(BaseCommand):
    help = "Load the demo data (once) and print the demo logins."

    def handle(self, *args, **options):
        if User.objects.filter(email="cell@ibz.example.be").exists():
            self.stdout.write("The demo data is already loaded.")
        else:
            self._load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    @transaction.atomic
    def _load(self):
        ibz = ContractingAuthority.objects.create(
            name="FOD Binnenlandse Zaken / SPF Intérieur", short_name="IBZ"
        )
        agreement = FrameworkAgreement.objects.create(
            contracting_authority=ibz,
            reference="IBZ-ICMS-2023-001",
            yearly_price=Decimal("1250.00"),
            starts_on=date(2023, 1, 1),
        )
        PriceAmendment.objects.create(
            agreement=agreement,
            reference="IBZ-ICMS-2023-001/A1",
            yearly_price=Decimal("1320.00"),
            applies_from=date(2026, 1, 1),
        )

        organisations = {}
        for name, number, street, postcode, city, language, base in ORGANISATIONS:
            organisation = Organisation(
                legal_name=name,
                enterprise_number=number,
                street=street,
                postcode=postcode,
                city=city,
                billing_email=f"facturatie@{number}.example.be",
                language=language,
                contracting_authority=ibz,
                configuration=Configuration.STANDARD,
                base_package_allocation=base,
            )
            organisation.full_clean()
            organisation.save()
            organisations[name] = organisation
        antwerpen = organisations["Hulpverleningszone Antwerpen"]
        antwerpen.configuration = Configuration.SPECIFIC
        antwerpen.specific_configuration_name = "Haven van Antwerpen-Brugge"
        antwerpen.save()

        users = {}
        for email, (first, last, role, organisation, language) in PEOPLE.items():
            users[email] = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                role=role,
                organisation=organisations.get(organisation),
                language=language,
                function="Noodplanning" if role == Role.ORGANISATION_ADMIN else "",
            )
        superuser = User.objects.create_superuser(
            "superuser@tcd.example.com",
            DEMO_PASSWORD,
            first_name="Portal",
            last_name="Operator",
        )
        # Every login confirms a second factor. The demo users have an
        # authenticator linked already; `manage.py demo_code EMAIL` shows its
        # current code.
        for user in [*users.values(), superuser]:
            TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)

        # Base-package accounts already in use: free, never invoiced.
        gent = organisations["Stad Gent"]
        for number, (first, last) in enumerate(
            [("Jan", "Peeters"), ("Lotte", "Janssens")]
        ):
            activation = date(2025, 2, 1) + timedelta(days=number)
            self._account(
                gent,
                f"gent.{first.lower()}.{last.lower()}",
                first,
                last,
                activation,
                is_base_package=True,
                periods_until=timezone.localdate(),
            )

        # Additional accesses of Hulpverleningszone Antwerpen that have run for
        # most of a year, so the lifecycle shows at once: one renewal is
        # overdue (the job catches it up), one is due in a week, one is past
        # its last day to cancel, one is still in time and due a reminder.
        today = timezone.localdate()
        for username, first, last, days_ago in [
            ("hza.ruben.jacobs", "Ruben", "Jacobs", 378),
            ("hza.sarah.mertens", "Sarah", "Mertens", 358),
            ("hza.tom.willems", "Tom", "Willems", 320),
            ("hza.nele.goossens", "Nele", "Goossens", 300),
        ]:
            activation = today - timedelta(days=days_ago)
            self._account(
                antwerpen,
                username,
                first,
                last,
                activation,
                is_base_package=False,
                periods_until=activation,
            )

        # A request waiting in the cell's queue, one refused, one with its
        # order form waiting for the organisation.
        cell = users["cell@ibz.example.be"]
        orders.access_request_submit(
            requested_by=users["admin.liege@example.be"],
            quantity=3,
            motivation="Trois officiers de planification d'urgence rejoignent la "
            "cellule communale de crise.",
            function="Coordinatrice planification d'urgence",
        )
        refused = orders.access_request_submit(
            requested_by=users["admin.liege@example.be"],
            quantity=40,
            motivation="Accès pour tout le personnel administratif.",
        )
        orders.access_request_refuse(
            access_request=refused,
            decided_by=cell,
            reason="Les accès sont réservés aux fonctions de gestion de crise; le "
            "personnel administratif n'y a pas droit.",
        )
        waiting = orders.access_request_submit(
            requested_by=users["admin.gent@example.be"],
            quantity=2,
            motivation="Twee nieuwe medewerkers van de dienst noodplanning.",
        )
        orders.access_request_issue_order_form(access_request=waiting, decided_by=cell)

    def _account(
        self,
        organisation,
        username,
        first,
        last,
        activation,
        is_base_package,
        periods_until,
    ):
        """An account from before the portal, with its periods up to a day."""
        account = IcmsAccount.objects.create(
            organisation=organisation,
            username=username,
            holder_first_name=first,
            holder_last_name=last,
            holder_email=f"{first.lower()}.{last.lower()}@example.be",
            holder_function="Noodplanning",
            is_base_package=is_base_package,
        )
        subscription = Subscription.objects.create(
            account=account, activation_date=activation
        )
        for period in periods.periods_started_by(activation, periods_until):
            SubscriptionPeriod.objects.create(
                subscription=subscription,
                index=period.index,
                start=period.start,
                end=period.end,
            )

    def _print_logins(self):
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for each: {DEMO_PASSWORD})")
        self.stdout.write(
            "Second factor: `.venv/bin/python manage.py demo_code EMAIL` prints the "
            "code to type."
        )
        for email, (first, last, role, organisation, _language) in PEOPLE.items():
            where = organisation or role.label
            self.stdout.write(f"  {email:<28} {role.label:<20} {first} {last}, {where}")
        self.stdout.write(
            f"  {'superuser@tcd.example.com':<28} Django admin at /django-admin/"
        )
