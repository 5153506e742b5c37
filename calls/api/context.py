"""`GET /api/v1/calls/{id}/context/` (placeholder until it lands)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView


class CallContextView(APIView):
    @extend_schema(responses={501: OpenApiResponse(description="Not built yet.")})
    def get(self, request, pk: int):
        return Response(status=501)
