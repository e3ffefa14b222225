from django.urls import path

from .api import AccountApi

urlpatterns = [path("account", AccountApi.as_view(), name="api-account")]
