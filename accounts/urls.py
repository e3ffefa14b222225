from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import auth, keys

urlpatterns = [
    path("signup/", auth.signup, name="signup"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/",
         auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_reset_complete")),
         name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("keys/", keys.key_list, name="keys"),
    path("keys/new/", keys.key_create, name="key_create"),
    path("keys/<uuid:public_id>/edit/", keys.key_edit, name="key_edit"),
    path("keys/<uuid:public_id>/reset/", keys.key_reset, name="key_reset"),
    path("keys/<uuid:public_id>/revoke/", keys.key_revoke, name="key_revoke"),
]
