"""Sending requests to the Twilio webhooks as Twilio sends them: form-encoded (or a GET) and
signed with the real twilio package's RequestValidator."""

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from django.http import QueryDict
from twilio.request_validator import RequestValidator

TOKEN = "alice-token"
TRACKING = "+12125550100"
CALLER = "+14155552671"
FORWARD_TO = "+13105550123"
SID = "CA" + "a" * 32
BASE = "https://calls.example.com"


def send(client, route, params, *, token=TOKEN, method="post", signature=None):
    """Send `params` to /webhooks/twilio/<route> signed as Twilio signs them."""
    path = f"/webhooks/twilio/{route}"
    if method == "get":
        url = f"{BASE}{path}?{urlencode(params)}"
        sig = RequestValidator(token).compute_signature(url, {})
        return client.get(path, params, HTTP_X_TWILIO_SIGNATURE=signature or sig)
    body = urlencode(params, doseq=True)
    sig = RequestValidator(token).compute_signature(f"{BASE}{path}", QueryDict(body))
    return client.post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature if signature is not None else sig,
    )


def voice_params(sid=SID, caller=CALLER, to=TRACKING, **extra):
    return {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": caller, "To": to,
            "CallStatus": "ringing", "Direction": "inbound", **extra}  # fmt: skip


def twiml(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)
