"""Small authenticated JSON endpoints for customer backends (besides the parse endpoint)."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.services import credit_account_for
from parsing import requestlog


class AccountApi(APIView):
    """GET /api/v1/account: the key's owner's balance and the key's permissions."""

    def get(self, request: Request) -> Response:
        account = credit_account_for(user_id=request.user.pk)
        key = request.auth
        requestlog.record(key=key, endpoint="/api/v1/account", status=200)
        return Response({
            "status": 200,
            "data": {
                "available": account.available,
                "reserved": account.reserved,
                "key": {"name": key.name, "platforms": key.platform_labels,
                        "expiresOn": key.expires_on.isoformat() if key.expires_on else None},
            },
            "msg": "success",
        })
