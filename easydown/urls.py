from django.contrib import admin
from django.urls import include, path

from parsing.api import parse_view

urlpatterns = [
    path("api/v1/parse", parse_view, name="api-parse"),
    path("api/v1/", include("accounts.api_urls")),
    path("admin/", admin.site.urls),
]

handler404 = "easydown.views.not_found"
handler500 = "easydown.views.server_error"
