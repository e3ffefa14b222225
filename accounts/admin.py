from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiKey, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys without any secret: only the masked token is shown; the hash is never displayed."""

    list_display = ["name", "user", "masked_token", "status", "expires_on", "last_used_at", "created_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__email", "token_prefix"]
    fields = ["user", "name", "masked_token", "platforms", "expires_on", "rate_limit_per_minute", "revoked_at",
              "last_used_at", "created_at"]
    readonly_fields = ["user", "masked_token", "revoked_at", "last_used_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens are created by the owner (dashboard) or `createapikey`, shown once there
