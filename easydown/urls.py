from django.contrib import admin
from django.urls import include, path

from easydown.health import HealthApi
from parsing.api import parse_view

urlpatterns = [
    path("api/v1/parse", parse_view, name="api-parse"),
    path("api/v1/", include("accounts.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", HealthApi.as_view(), name="health"),
]

handler404 = "easydown.views.not_found"
handler500 = "easydown.views.server_error"
