from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from easydown.exceptions import ApiError

from .forms import TopUpForm
from .models import CreditAccount, CreditHold, LedgerEntry
from .services import credit_topup


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "available", "reserved", "updated_at", "top_up_link"]
    search_fields = ["user__email"]

    def get_urls(self):
        return [
            path("<int:user_id>/topup/", self.admin_site.admin_view(self.topup_view), name="billing_topup"),
            *super().get_urls(),
        ]

    @admin.display(description="Top up")
    def top_up_link(self, obj: CreditAccount) -> str:
        from django.utils.html import format_html

        return format_html('<a href="{}">Top up</a>', reverse("admin:billing_topup", args=[obj.pk]))

    def topup_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        account = get_object_or_404(CreditAccount, pk=user_id)
        if not request.user.has_perm("billing.add_ledgerentry"):
            messages.error(request, "You may not top up credits.")
            return redirect("admin:billing_creditaccount_changelist")
        form = TopUpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                _, created = credit_topup(
                    user_id=account.pk, amount=form.cleaned_data["amount"],
                    reference=f"admin:{form.cleaned_data['idempotency_key']}",
                    note=form.cleaned_data["note"], created_by_id=request.user.pk,
                )
            except ApiError as exc:
                messages.error(request, exc.msg)
            else:
                account.refresh_from_db()
                text = "Added" if created else "Already applied:"
                messages.success(request, f"{text} {form.cleaned_data['amount']} credits for {account.user}. "
                                          f"Available now: {account.available}.")
                return redirect("admin:billing_creditaccount_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "account": account,
                   "title": f"Top up credits for {account.user}", "opts": self.model._meta}
        return TemplateResponse(request, "admin/billing/topup.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "amount", "reference", "note", "created_by"]
    list_filter = ["kind"]
    search_fields = ["account__user__email", "reference"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_staff


@admin.register(CreditHold)
class CreditHoldAdmin(ReadOnlyAdmin):
    list_display = ["reference", "account", "state", "created_at", "settled_at"]
    list_filter = ["state"]
