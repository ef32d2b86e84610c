"""The real URLs plus one page that fails while clinical text is in its request, the way a
bug deep in a service would (an exception whose message quotes what it could not read).
Used by tests/carecoord/test_safety_smaller.py through @pytest.mark.urls."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from carecoord.urls import urlpatterns as real_urlpatterns


def failing_page(request: HttpRequest) -> HttpResponse:
    body = request.POST.get("body", "")
    raise ValueError(f"could not save the item: {body!r}")


urlpatterns = [path("failing-page/", failing_page), *real_urlpatterns]
