"""Pages of long lists on the site's pages: ?page=N, N from 1; anything else is a 404."""

from django.core.paginator import EmptyPage, Paginator
from django.http import Http404


def page_of(request, items, per_page, *, number=None):
    """The requested page of ``items`` (a queryset, ordered), or Http404."""
    raw = str(number) if number is not None else request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit()):
        raise Http404("A page number is a whole number from 1.")
    paginator = Paginator(items, per_page)
    try:
        return paginator.page(int(raw))
    except EmptyPage:
        raise Http404(f"There are {paginator.num_pages} page(s).") from None


def page_holding(ordered_pks, pk, per_page):
    """The number of the page on which record ``pk`` is, in an ordered queryset of pks."""
    for index, candidate in enumerate(ordered_pks.iterator(chunk_size=2000)):
        if candidate == pk:
            return index // per_page + 1
    raise Http404("No such record in this list.")
