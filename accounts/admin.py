from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from .models import ApiKey, User
from .services import api_key_revoke


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users with their balances; "Top up" leads to the amount/note form (billing.admin)."""

    ordering = ["email"]
    list_display = ["email", "available_credits", "reserved_credits", "top_up_link", "is_staff", "is_active",
                    "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email"]
    actions = ["top_up"]
    readonly_fields = ["credits", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Credits", {"fields": ["credits"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(
            _available=F("credit_account__available"), _reserved=F("credit_account__reserved")
        )

    @admin.display(description="Available", ordering="_available")
    def available_credits(self, obj: User) -> int:
        return getattr(obj, "_available", None) or 0

    @admin.display(description="Reserved", ordering="_reserved")
    def reserved_credits(self, obj: User) -> int:
        return getattr(obj, "_reserved", None) or 0

    @admin.display(description="Top up")
    def top_up_link(self, obj: User) -> str:
        return format_html('<a href="{}">Top up</a>', reverse("admin:billing_topup", args=[obj.pk]))

    @admin.display(description="Balance")
    def credits(self, obj: User) -> str:
        if obj.pk is None:
            return "—"
        ledger = reverse("admin:billing_ledgerentry_changelist") + "?" + urlencode({"q": obj.email})
        return format_html(
            '{} available, {} reserved · <a href="{}">Top up</a> · <a href="{}">Ledger</a>',
            self.available_credits(obj), self.reserved_credits(obj), reverse("admin:billing_topup", args=[obj.pk]),
            ledger,
        )

    @admin.action(description="Top up credits for the selected user")
    def top_up(self, request: HttpRequest, queryset: QuerySet) -> HttpResponseRedirect | None:
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, "Select exactly one user to top up.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:billing_topup", args=[users[0].pk]))


class KeyStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        today = timezone.now().date()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_on__lt=today)
        if self.value() == "active":
            return queryset.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today), revoked_at__isnull=True)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys without any secret: only the masked token is shown; the hash is never displayed."""

    list_display = ["name", "user", "masked_token", "status", "platform_list", "expires_on", "last_used_at",
                    "created_at"]
    list_filter = [KeyStatusFilter]
    search_fields = ["name", "user__email", "token_prefix"]
    list_select_related = ["user"]
    fields = ["user", "name", "masked_token", "platforms", "expires_on", "rate_limit_per_minute", "revoked_at",
              "last_used_at", "rotated_at", "created_at"]
    readonly_fields = ["user", "masked_token", "revoked_at", "last_used_at", "rotated_at", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are created by the owner (dashboard) or `createapikey`, shown once there

    @admin.display(description="Platforms")
    def platform_list(self, obj: ApiKey) -> str:
        return "All" if obj.all_platforms else ", ".join(obj.platforms)

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(key=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)
