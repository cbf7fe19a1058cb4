from django.urls import path

from positions import views

app_name = "positions"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("statements/<int:pk>/", views.statement_detail, name="statement-detail"),
    path("sources/", views.source_list, name="source-list"),
    path("sources/<int:pk>/", views.source_detail, name="source-detail"),
    path("meetings/", views.meeting_list, name="meeting-list"),
    path("proposals/", views.proposal_list, name="proposal-list"),
    path("actors/", views.actor_list, name="actor-list"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor-detail"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic-detail"),
]
