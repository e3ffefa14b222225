"""Sign-up, log-in and password reset. Their form posts are rate-limited per client IP."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from billing.services import credit_account_for, credit_topup
from easydown.ratelimits import ip_key, login_rate, password_reset_rate, signup_rate

from ..forms import EmailPasswordResetForm, LoginForm, SignupForm

LIMITED = "Too many attempts from your network. Please wait a few minutes and try again."


@method_decorator(ratelimit(group="login", key=ip_key, rate=login_rate, method="POST", block=False), name="post")
class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if getattr(request, "limited", False):
            form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
            return self.render_to_response(self.get_context_data(form=form, limited=LIMITED), status=429)
        return super().post(request, *args, **kwargs)


@method_decorator(ratelimit(group="password_reset", key=ip_key, rate=password_reset_rate, method="POST",
                            block=False), name="post")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = EmailPasswordResetForm
    success_url = reverse_lazy("password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if getattr(request, "limited", False):
            return self.render_to_response(self.get_context_data(form=self.form_class(), limited=LIMITED),
                                           status=429)
        return super().post(request, *args, **kwargs)


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
@ratelimit(group="signup", key=ip_key, rate=signup_rate, method="POST", block=False)
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account with an email and a password, log it in, and go to its (empty) keys page."""
    if request.user.is_authenticated:
        return redirect("keys")
    if request.method == "POST" and getattr(request, "limited", False):
        form = SignupForm(initial={"email": request.POST.get("email", "")})
        return render(request, "registration/signup.html", {"form": form, "limited": LIMITED}, status=429)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        credit_account_for(user_id=user.pk)
        if settings.EASYDOWN_SIGNUP_CREDITS > 0:  # once per account: the reference names it
            credit_topup(user_id=user.pk, amount=settings.EASYDOWN_SIGNUP_CREDITS, reference=f"signup:{user.pk}",
                         note="free starting credits")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Easydown. Create your first API key to start parsing.")
        return redirect("keys")
    return render(request, "registration/signup.html", {"form": form})
