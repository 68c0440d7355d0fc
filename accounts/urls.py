from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import security_views, views
from .forms import PasswordChoiceForm, PasswordResetRequestForm
from .people_views import people
from .report_views import report_list, report_new

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path(
        "login/verify/",
        security_views.second_factor_verify,
        name="second_factor_verify",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("people/", people, name="people"),
    path("report/", report_new, name="report_new"),
    path("tcd/reports/", report_list, name="report_list"),
    path("profile/email/", security_views.email_change, name="email_change"),
    path("security/", security_views.security, name="security"),
    path(
        "security/setup/",
        security_views.second_factor_setup,
        name="second_factor_setup",
    ),
    path("security/confirm/", security_views.reauthenticate, name="reauthenticate"),
    path(
        "security/recovery-codes/", security_views.recovery_codes, name="recovery_codes"
    ),
    path(
        "security/recovery-codes/renew/",
        security_views.recovery_codes_renew,
        name="recovery_codes_renew",
    ),
    path("people/invite/", views.invite, name="invite"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            form_class=PasswordResetRequestForm,
            email_template_name="emails/password_reset/body.txt",
            html_email_template_name="emails/password_reset/body.html",
            subject_template_name="emails/password_reset/subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="accounts/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            form_class=PasswordChoiceForm,
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
