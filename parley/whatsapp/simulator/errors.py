"""Meta's error bodies: synchronous Graph API errors and the `errors` objects of webhooks.

Titles and details follow Meta's Cloud API error-code reference. Meta tells integrators to
branch on `code` (and `error_data.details`), never on the HTTP status or the title.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from . import ids

ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (title, details)
TITLES: dict[int, tuple[str, str]] = {
    4: ("Application request limit reached", "The app has reached its API call rate limit."),
    100: (
        "Invalid parameter",
        "The request included one or more unsupported or misspelled parameters.",
    ),
    80007: ("Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
    131009: ("Parameter value is not valid", "One or more parameter values are invalid."),
    131016: ("Service unavailable", "A service is temporarily unavailable."),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: the recipient phone number is not a "
        "WhatsApp phone number; the recipient has not accepted the new Terms of Service; the "
        "recipient is using an old WhatsApp version.",
    ),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131051: ("Message type unknown", "Message type is currently not supported."),
    132000: (
        "Number of parameters does not match the expected number of params",
        "The number of variable parameter values does not match the template.",
    ),
    132001: (
        "Template name does not exist in the translation",
        "The template does not exist in the specified language or has not been approved.",
    ),
    133004: ("Server temporarily unavailable", "Server is temporarily unavailable."),
}

# Which Meta code an injected fault of a given HTTP status carries by default.
FAULT_DEFAULT_CODE = {429: 130429, 500: 131000, 502: 131000, 503: 131016, 504: 133004}


class MetaError(Exception):
    """A synchronous Graph API error; the handlers turn it into Meta's JSON body."""

    def __init__(
        self,
        http_status: int,
        code: int,
        *,
        message: str | None = None,
        details: str | None = None,
        subcode: int | None = None,
        whatsapp: bool = True,
        error_type: str = "OAuthException",
        headers: dict[str, str] | None = None,
    ) -> None:
        title, default_details = TITLES.get(code, ("Unknown error", "An unknown error occurred."))
        self.http_status = http_status
        self.code = code
        self.message = message or f"(#{code}) {title}"
        self.details = details or default_details
        self.subcode = subcode
        # Graph-level errors (bad token, unknown object) have no WhatsApp error_data.
        self.whatsapp = whatsapp
        self.error_type = error_type
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type}
        error["code"] = self.code
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.whatsapp:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = ids.fbtrace_id()
        return {"error": error}

    def response(self) -> JSONResponse:
        body = self.body()
        headers = {"x-fb-trace-id": body["error"]["fbtrace_id"], **self.headers}
        return JSONResponse(body, status_code=self.http_status, headers=headers)


def invalid_parameter(details: str, *, message: str | None = None) -> MetaError:
    return MetaError(400, 100, message=message or f"(#100) {details}", details=details)


def invalid_value(details: str) -> MetaError:
    return MetaError(400, 131009, details=details)


def invalid_token() -> MetaError:
    text = "Invalid OAuth access token - Cannot parse access token"
    return MetaError(
        401,
        190,
        message=text,
        whatsapp=False,
        headers={"www-authenticate": f'OAuth "Facebook Platform" "invalid_token" "{text}"'},
    )


def unknown_object(object_id: str, method: str) -> MetaError:
    verb = "post" if method == "POST" else ("delete" if method == "DELETE" else "get")
    text = (
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation."
    )
    return MetaError(
        400, 100, message=text, subcode=33, whatsapp=False, error_type="GraphMethodException"
    )


def throughput_exceeded() -> MetaError:
    # Meta's error-code table lists 130429 with HTTP 400, not 429.
    return MetaError(400, 130429)


def template_missing(name: str, language: str) -> MetaError:
    return MetaError(400, 132001, details=f"template name ({name}) does not exist in {language}")


def template_param_mismatch(component: str, got: int, expected: int) -> MetaError:
    return MetaError(
        400,
        132000,
        details=(
            f"{component}: number of localizable_params ({got}) does not match the expected "
            f"number of params ({expected})"
        ),
    )


def fault(http_status: int, code: int | None) -> MetaError:
    chosen = code if code is not None else FAULT_DEFAULT_CODE.get(http_status, 131000)
    return MetaError(http_status, chosen)


def webhook_error(code: int, details: str | None = None, *, href: bool = True) -> dict[str, Any]:
    """The `errors[]` item of a failed status; an unsupported inbound message carries the
    same object without `href`."""
    title, default_details = TITLES.get(code, ("Unknown error", "An unknown error occurred."))
    error: dict[str, Any] = {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or default_details},
    }
    if href:
        error["href"] = ERROR_CODES_HREF
    return error
