"""Twilio webhooks (placeholders until the Twilio work lands)."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def voice(request):
    return HttpResponse(status=501)


status = dial = recording = voice
