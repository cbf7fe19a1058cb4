from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from positions import mfa

admin.site.site_header = "Arms Talks Position Tracker"
admin.site.site_title = "Arms Talks admin"
admin.site.index_title = "The record"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/mfa/", mfa.overview, name="mfa-overview"),
    path("account/mfa/setup/", mfa.setup, name="mfa-setup"),
    path("account/mfa/verify/", mfa.verify, name="mfa-verify"),
    path("api/v1/", include(("positions.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("positions.urls")),
]
