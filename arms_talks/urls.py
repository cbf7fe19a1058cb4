from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Arms Talks Position Tracker"
admin.site.site_title = "Arms Talks admin"
admin.site.index_title = "The record"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("positions.urls")),
]
