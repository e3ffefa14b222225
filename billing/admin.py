from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.models import User
from easydown.exceptions import ApiError

from .forms import TopUpForm
from .models import CreditAccount, CreditHold, LedgerEntry
from .services import credit_account_for, credit_topup


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
    list_select_related = ["user"]

    def get_urls(self):
        return [
            path("<int:user_id>/topup/", self.admin_site.admin_view(self.topup_view), name="billing_topup"),
            *super().get_urls(),
        ]

    @admin.display(description="Top up")
    def top_up_link(self, obj: CreditAccount) -> str:
        return format_html('<a href="{}">Top up</a>', reverse("admin:billing_topup", args=[obj.pk]))

    def topup_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Amount and note for one user. The form carries a one-time idempotency key, so a double
        submission (double click, resubmitted page) tops up once."""
        user = get_object_or_404(User, pk=user_id)
        if not request.user.has_perm("billing.add_ledgerentry"):
            messages.error(request, "You may not top up credits.")
            return redirect("admin:accounts_user_changelist")
        account = credit_account_for(user_id=user.pk)
        form = TopUpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount = form.cleaned_data["amount"]
            try:
                _, created = credit_topup(
                    user_id=user.pk, amount=amount, reference=f"admin:{form.cleaned_data['idempotency_key']}",
                    note=form.cleaned_data["note"], created_by_id=request.user.pk,
                )
            except ApiError as exc:
                form.add_error(None, exc.msg)
            else:
                account.refresh_from_db()
                if created:
                    messages.success(request, f"Added {amount} credits for {user}. Available now: {account.available}.")
                else:
                    messages.warning(request, f"This top-up was already applied; nothing was added twice. "
                                              f"Available for {user}: {account.available}.")
                return redirect("admin:accounts_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request), "form": form, "account": account, "customer": user,
            "recent": LedgerEntry.objects.filter(account_id=user.pk).select_related("created_by")[:5],
            "title": f"Top up credits for {user}", "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/topup.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "customer", "kind", "amount", "reference", "note", "created_by"]
    list_filter = ["kind"]
    list_select_related = ["account__user", "created_by"]
    date_hierarchy = "created_at"
    search_fields = ["account__user__email", "reference"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_staff

    @admin.display(description="Customer", ordering="account__user__email")
    def customer(self, obj: LedgerEntry) -> str:
        return obj.account.user.email


@admin.register(CreditHold)
class CreditHoldAdmin(ReadOnlyAdmin):
    list_display = ["reference", "account", "state", "created_at", "settled_at"]
    list_filter = ["state"]
