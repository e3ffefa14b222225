"""GET /healthz: the database answers an indexed query (for load balancers; also the bench baseline)."""

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        User.objects.filter(pk=1).exists()  # one primary-key lookup: proves the database answers
        return Response({"status": 200, "data": {"ok": True}, "msg": "success"})
