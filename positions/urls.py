from django.urls import path

from positions import editorial, views

app_name = "positions"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("statements/<int:pk>/", views.statement_detail, name="statement-detail"),
    path("sources/", views.source_list, name="source-list"),
    path("sources/new/", editorial.source_add, name="source-add"),
    path("sources/<int:pk>/", views.source_detail, name="source-detail"),
    path("sources/<int:pk>/edit/", editorial.source_edit, name="source-edit"),
    path("sources/<int:pk>/capture/", editorial.capture, name="capture"),
    path("sources/<int:pk>/find/", editorial.find_words, name="find-words"),
    path("sources/<int:pk>/suggestions/", editorial.suggestion_list, name="suggestions"),
    path(
        "sources/<int:pk>/suggestions/dismiss/",
        editorial.suggestion_dismiss,
        name="suggestion-dismiss",
    ),
    path("statements/<int:pk>/edit/", editorial.statement_edit, name="statement-edit"),
    path("statements/<int:pk>/place/", editorial.statement_place, name="statement-place"),
    path("statements/<int:pk>/delete/", editorial.statement_delete, name="statement-delete"),
    path("review/", editorial.review, name="review"),
    path("changes/", editorial.recent_changes, name="recent-changes"),
    path("meetings/", views.meeting_list, name="meeting-list"),
    path("proposals/", views.proposal_list, name="proposal-list"),
    path("actors/", views.actor_list, name="actor-list"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor-detail"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic-detail"),
]
