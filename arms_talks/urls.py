from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Arms Talks Position Tracker"
admin.site.site_title = "Arms Talks admin"
admin.site.index_title = "The record"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
