"""Errors the emulated API answers, and their bodies in each API family's error model.

Handlers raise :class:`ApiError`; the pipeline renders it in the format of the API that was
called (``cloud/reference/errors.md``):

- v2: ``{"code": "NOT_FOUND", "message": "...", "details": []}``
- v1 standard data stores: ``{"error": "NOT_FOUND", "message": "...", "errorDetails":
  [{"errorDetailType": "DatastoreErrorInfo", "datastoreErrorCode": "EntryNotFound"}]}``
- v1 ordered data stores: ``{"code": "NOT_FOUND", "message": "..."}``
- configs and the gateway (401/403 from a bad key or scope):
  ``{"errors": [{"code": 0, "message": "..."}]}``
"""

from __future__ import annotations

from enum import Enum

from dsgit.emulator.wire import Response, json_response

__all__ = [
    "STATUS_CODES",
    "ApiError",
    "Family",
    "GatewayError",
    "aborted",
    "gateway_response",
    "invalid",
    "not_found",
    "render",
]

STATUS_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
}


class Family(Enum):
    """Which error model a route answers in."""

    V2 = "v2"
    V1_STANDARD = "v1-standard"
    V1_ORDERED = "v1-ordered"
    CONFIGS = "configs"


class ApiError(Exception):
    """An error answer: HTTP status, message, and the v1 ``datastoreErrorCode`` if any."""

    def __init__(
        self,
        status: int,
        message: str,
        detail: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers

    @property
    def code(self) -> str:
        fallback = "INVALID_ARGUMENT" if self.status < 500 else "INTERNAL"
        return STATUS_CODES.get(self.status, fallback)


class GatewayError(ApiError):
    """Refused by the gateway (bad key, missing scope): answered as ``{"errors": [...]}``."""


def invalid(message: str, detail: str | None = None) -> ApiError:
    return ApiError(400, message, detail)


def not_found(message: str, detail: str | None = None) -> ApiError:
    return ApiError(404, message, detail)


def aborted(message: str) -> ApiError:
    return ApiError(409, message)


def gateway_response(
    status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    return json_response(status, {"errors": [{"code": 0, "message": message}]}, headers)


def render(family: Family, error: ApiError) -> Response:
    """The response for ``error`` in the error model of ``family``."""
    if isinstance(error, GatewayError):
        return gateway_response(error.status, error.message, error.headers)
    if family is Family.V2:
        body: object = {"code": error.code, "message": error.message, "details": []}
    elif family is Family.V1_STANDARD:
        body = {
            "error": error.code,
            "message": error.message,
            "errorDetails": [
                {
                    "errorDetailType": "DatastoreErrorInfo",
                    "datastoreErrorCode": error.detail or _default_detail(error.status),
                }
            ],
        }
    elif family is Family.V1_ORDERED:
        body = {"code": error.code, "message": error.message}
    else:
        return gateway_response(error.status, error.message, error.headers)
    return json_response(error.status, body, error.headers)


def _default_detail(status: int) -> str:
    return {
        400: "InvalidRequest",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        412: "PreconditionFailed",
        429: "TooManyRequests",
    }.get(status, "Unknown")
