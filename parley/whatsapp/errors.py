"""Cloud API errors, classified: retry with backoff, or fail with a reason a
person understands (DESIGN.md, "The message path")."""

from __future__ import annotations

from dataclasses import dataclass

# Meta error codes that mean "slow down / try again".
RETRYABLE_CODES = frozenset({4, 80007, 130429, 131056, 131000, 133004})

REASONS: dict[int, str] = {
    131047: "More than 24 hours have passed since the customer last wrote. Send an approved "
    "template to restart the conversation.",
    131026: "WhatsApp could not deliver this message: the number may not use WhatsApp, or the "
    "customer's app is too old.",
    131051: "WhatsApp does not support this message type.",
    131052: "The customer's media could not be downloaded.",
    131053: "The media could not be uploaded: check its type and size.",
    132000: "The template's parameters do not match its definition.",
    132001: "The template does not exist, or is not approved in this language.",
    132005: "The template's text is too long once the parameters are filled in.",
    132007: "The template breaks WhatsApp's formatting policy.",
    132012: "The template parameters have the wrong format.",
    132015: "The template is paused because of low quality.",
    132016: "The template is disabled because of low quality.",
    190: "The channel's access token is invalid or has expired: update it in the channel's "
    "settings.",
    368: "Meta has temporarily blocked this number for policy violations.",
    130472: "The customer is part of a Meta experiment and did not receive marketing messages.",
    131049: "Meta did not deliver this marketing message, to keep the customer's experience good.",
    131021: "The recipient is the sender's own number.",
    100: "WhatsApp rejected the message's content as invalid.",
    130429: "WhatsApp's throughput limit for this number was reached.",
    131056: "Too many messages to this customer in a short time.",
    80007: "The WhatsApp Business Account's rate limit was reached.",
    4: "The app's API rate limit was reached.",
}


@dataclass
class CloudApiError(Exception):
    """An error answered (or not answered) by the Graph API."""

    message: str
    code: int | None = None
    http_status: int | None = None
    # True when the request may or may not have reached Meta (a timeout
    # after sending): resending could duplicate the customer's message.
    ambiguous: bool = False

    def __str__(self) -> str:
        return f"{self.code or self.http_status}: {self.message}"

    @property
    def retryable(self) -> bool:
        if self.code in RETRYABLE_CODES:
            return True
        if self.code is not None and (self.code in REASONS or 132000 <= self.code < 133000):
            return False
        # Transport failures and server-side errors are worth another try.
        return self.http_status is None or self.http_status >= 500 or self.http_status == 429

    @property
    def reason(self) -> str:
        """What to show a person next to the failed message."""
        if self.code in REASONS:
            return REASONS[self.code]
        if self.code is not None and 132000 <= self.code < 133000:
            return f"Template error ({self.code}): {self.message}"
        return f"WhatsApp error {self.code or self.http_status}: {self.message}"
