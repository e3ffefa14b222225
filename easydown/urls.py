from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from easydown.health import HealthApi, ReadyApi
from parsing import views as parsing_views
from parsing.api import collection_view, live_view, parse_view

from . import views

admin.site.site_header = "Easydown administration"
admin.site.site_title = "Easydown admin"
admin.site.index_title = "Customers, credits and content"

urlpatterns = [
    path("api/v1/parse", parse_view, name="api-parse"),
    path("api/v1/live", live_view, name="api-live"),
    path("api/v1/collection", collection_view, name="api-collection"),
    path("api/v1/", include("accounts.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's): the site's icon, not a 404.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("healthz", HealthApi.as_view(), name="health"),
    path("readyz", ReadyApi.as_view(), name="ready"),
    path("", views.home, name="home"),
    path("dashboard/", RedirectView.as_view(pattern_name="keys"), name="dashboard"),
    path("start/", views.get_started, name="start"),
    path("requests/", parsing_views.request_log, name="requests"),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
]

handler404 = "easydown.views.not_found"
handler500 = "easydown.views.server_error"
