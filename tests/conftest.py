"""The people and organisations that recur through the tests.

- ``ibz``: the contracting authority FOD Binnenlandse Zaken, with
  ``ibz_agreement``, its framework agreement at 120.00 a year per access since
  1 January 2024 and without amendments.
- ``organisation_a``: Stad Gent, Dutch-speaking, under IBZ's agreement.
- ``organisation_b``: Ville de Liège, French-speaking, under the same agreement.
- ``admin_a`` and ``admin_b``: an organisation admin of each.
- ``cell``: a member of the ICMS cell of FPS Interior.
- ``tcd``: a member of TCD's staff.

Every persona logs in with ``factories.PASSWORD``. Tests that need more
people or organisations build them with the factories in ``factories.py``.
"""

import ipaddress
import socket

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import factories

_connect = socket.socket.connect


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_connect(sock, address):
    """Connect to this machine only: the database, Redis, a live test server."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(
        address[0]
    ):
        raise OSError(f"Tests do not reach the network ({address[0]}).")
    return _connect(sock, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    socket.socket.connect = _local_connect
    yield
    socket.socket.connect = _connect


@pytest.fixture
def ibz(db):
    return factories.ContractingAuthorityFactory(
        name="FOD Binnenlandse Zaken", short_name="IBZ"
    )


@pytest.fixture
def ibz_agreement(ibz):
    return factories.FrameworkAgreementFactory(
        contracting_authority=ibz, reference="IBZ/ICMS/2024/001"
    )


@pytest.fixture
def organisation_a(ibz_agreement):
    return factories.OrganisationFactory(
        legal_name="Stad Gent",
        enterprise_number="0207451227",
        street="Botermarkt 1",
        postcode="9000",
        city="Gent",
        billing_email="facturen@stad.gent.example.be",
        language="nl",
        contracting_authority=ibz_agreement.contracting_authority,
    )


@pytest.fixture
def organisation_b(ibz_agreement):
    return factories.OrganisationFactory(
        legal_name="Ville de Liège",
        enterprise_number=factories.enterprise_number("02073299"),
        street="Place du Marché 2",
        postcode="4000",
        city="Liège",
        billing_email="factures@liege.example.be",
        language="fr",
        contracting_authority=ibz_agreement.contracting_authority,
    )


@pytest.fixture
def admin_a(organisation_a):
    return factories.OrganisationAdminFactory(
        email="an.peeters@stad.gent.example.be",
        first_name="An",
        last_name="Peeters",
        function="Noodplanningsambtenaar",
        organisation=organisation_a,
    )


@pytest.fixture
def admin_b(organisation_b):
    return factories.OrganisationAdminFactory(
        email="luc.dubois@liege.example.be",
        first_name="Luc",
        last_name="Dubois",
        function="Fonctionnaire planification d'urgence",
        organisation=organisation_b,
    )


@pytest.fixture
def cell(db):
    return factories.IcmsCellFactory(
        email="sofie.maes@ibz.example.be", first_name="Sofie", last_name="Maes"
    )


@pytest.fixture
def tcd(db):
    return factories.TcdFactory(
        email="pieter.claes@tcd.example.com", first_name="Pieter", last_name="Claes"
    )


# Client.force_login as Django has it: a login that has not yet confirmed its
# second factor, for the tests of the second factor itself.
force_login_without_second_factor = Client.force_login


@pytest.fixture(autouse=True)
def _force_login_confirms_the_second_factor(monkeypatch):
    """``client.force_login(user)`` skips the password; here it skips the
    second factor too, as if the person had typed a valid code."""

    def force_login(self, user, backend=None):
        force_login_without_second_factor(self, user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="authenticator")
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
