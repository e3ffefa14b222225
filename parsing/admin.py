from django.contrib import admin

from .models import BlockRule, ParseJob


@admin.register(ParseJob)
class ParseJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "platform", "state", "error_reason", "attempts", "duration_ms"]
    list_filter = ["platform", "state"]
    search_fields = ["user__email", "url", "media_id"]
    readonly_fields = [f.name for f in ParseJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BlockRule)
class BlockRuleAdmin(admin.ModelAdmin):
    list_display = ["platform", "pattern", "reason", "is_active", "created_by", "created_at"]
    list_filter = ["platform", "is_active"]
    search_fields = ["pattern", "reason"]
    exclude = ["created_by"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
