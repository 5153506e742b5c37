"""`GET /dni/v1/<public key>.js`: the website snippet (placeholder until the snippet lands)."""

from django.http import HttpResponse


def snippet(request, public_key: str):
    return HttpResponse("/* Callpath snippet */", content_type="application/javascript")
