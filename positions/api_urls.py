from django.urls import path
from rest_framework import permissions, routers

from positions import api


class PublicRootView(routers.APIRootView):
    """The API's resources. Reads are public; see /api/docs/ for everything else."""

    permission_classes = [permissions.AllowAny]


class Router(routers.DefaultRouter):
    APIRootView = PublicRootView
    # No ".json" suffix routes: one URL per resource, the format chosen by Accept.
    include_format_suffixes = False


router = Router()
router.register("parties", api.PartyViewSet, basename="party")
router.register("actors", api.ActorViewSet, basename="actor")
router.register("topics", api.TopicViewSet, basename="topic")
router.register("sources", api.SourceViewSet, basename="source")
router.register("statements", api.StatementViewSet, basename="statement")
router.register("proposals", api.ProposalViewSet, basename="proposal")
router.register("meetings", api.MeetingViewSet, basename="meeting")

urlpatterns = [
    path("comparison/", api.ComparisonView.as_view(), name="comparison"),
    *router.urls,
]
