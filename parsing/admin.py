from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .labels import PLATFORM_CHOICES
from .models import ApiRequest, AuthFailure, BlockRule, ParseJob


class OutcomeFilter(admin.SimpleListFilter):
    """Charged successes, free failures, and jobs still open."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("succeeded", "Succeeded (charged)"), ("failed", "Failed (free)"), ("open", "In progress")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "succeeded":
            return queryset.filter(state=ParseJob.State.SUCCEEDED)
        if self.value() == "failed":
            return queryset.exclude(state__in=[ParseJob.State.SUCCEEDED, *ParseJob.OPEN_STATES])
        if self.value() == "open":
            return queryset.filter(state__in=ParseJob.OPEN_STATES)
        return queryset


class PlatformFilter(admin.SimpleListFilter):
    title = "platform"
    parameter_name = "platform"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return PLATFORM_CHOICES

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(platform=self.value()) if self.value() else queryset


@admin.register(ParseJob)
class ParseJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "platform", "state", "error_code", "error_reason", "attempts",
                    "duration_ms"]
    list_filter = [OutcomeFilter, PlatformFilter, "state", "error_reason"]
    list_select_related = ["user"]
    search_fields = ["user__email", "url", "media_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ParseJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class BlockRuleForm(forms.ModelForm):
    platform = forms.ChoiceField(choices=PLATFORM_CHOICES)

    class Meta:
        model = BlockRule
        fields = ["platform", "pattern", "reason", "is_active"]
        help_texts = {
            "pattern": "The platform's media id (exact), or a URL pattern with * wildcards, "
                       "e.g. https://www.youtube.com/watch?v=abc* — matched case-insensitively.",
            "reason": "Returned to the client as the 451 response's reason.",
        }


@admin.register(BlockRule)
class BlockRuleAdmin(admin.ModelAdmin):
    """Matching requests get 451 content_restricted and cost nothing."""

    form = BlockRuleForm
    list_display = ["platform", "pattern", "reason", "is_active", "created_by", "created_at"]
    list_filter = ["platform", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["pattern", "reason"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ApiRequest)
class ApiRequestAdmin(admin.ModelAdmin):
    """Every customer's request log (read-only)."""

    list_display = ["created_at", "user", "key_name", "endpoint", "platform", "status", "code", "reason", "credits",
                    "request_id"]
    list_filter = ["endpoint", "status", "platform"]
    search_fields = ["request_id", "link", "user__email", "key_name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuthFailure)
class AuthFailureAdmin(admin.ModelAdmin):
    """Calls with no or an unknown token, per client IP and day: they belong to no customer."""

    list_display = ["day", "ip", "count", "last_at"]
    list_filter = ["day"]
    search_fields = ["ip"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
