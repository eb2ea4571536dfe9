"""Checkout service client."""

TIMEOUT_SECONDS = 5


def charge(amount_cents: int) -> dict:
    if amount_cents <= 0:
        raise ValueError("amount must be positive")
    return {"status": "ok", "amount": amount_cents, "timeout": TIMEOUT_SECONDS}
