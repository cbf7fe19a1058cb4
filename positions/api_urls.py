from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, path, re_path, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import permissions, routers

from positions import api


class PublicRootView(routers.APIRootView):
    """The API's resources. Reads are public; see /api/docs/ for everything else."""

    permission_classes = [permissions.AllowAny]


class Router(routers.DefaultRouter):
    APIRootView = PublicRootView
    # No ".json" suffix routes: one URL per resource, the format chosen by Accept.
    include_format_suffixes = False

    def get_api_root_view(self, api_urls=None):
        list_name = self.routes[0].name
        resources = {
            prefix: list_name.format(basename=basename) for prefix, _, basename in self.registry
        }
        return self.APIRootView.as_view(api_root_dict={**resources, "comparison": "comparison"})


@csrf_exempt
def not_found(request, rest):
    """
    Anything else under /api/v1/ is a JSON 404 (Django's own would be an HTML page),
    including ids that are not numbers; with no CSRF check, since nothing happens here.
    A GET that only lacks its final slash is redirected, as Django's APPEND_SLASH would.
    """
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "not-found":
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse(
        {"detail": "Not found: no such resource or record in the API. See /api/v1/."},
        status=404,
    )


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
    re_path(r"^(?P<rest>.*)$", not_found, name="not-found"),
]
