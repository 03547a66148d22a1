"""The boto3 client: made here so that boto3 is imported only when SWF is used.

SWF holds a long poll open for up to 60 s, so the read timeout must be longer
than that or botocore's default races it; throttling is retried by botocore's
own retry modes rather than by hand.
"""

from __future__ import annotations

from typing import Any

LONG_POLL_READ_TIMEOUT = 70
RETRY = {"mode": "standard", "max_attempts": 10}


def make_client(
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    session: Any = None,
    client: Any = None,
) -> Any:
    """A client as given, else one from ``session``, else from the keys (when left
    out, boto3's standard credential chain applies)."""
    if client is not None:
        return client
    import boto3
    from botocore.config import Config

    if session is None:
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
    config = Config(read_timeout=LONG_POLL_READ_TIMEOUT, retries=RETRY)
    return session.client("swf", region_name=region, endpoint_url=endpoint_url, config=config)


def error_code(error: Exception) -> str | None:
    """The SWF fault name of a botocore ClientError, else None."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None
