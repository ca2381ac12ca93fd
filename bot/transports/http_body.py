"""Reading a webhook body under a limit (请求体上限): too large is HTTP 413, never 400.

A messenger that gets 413 knows the body, not the bot, is wrong; a 400 would look like a bug
of ours. The limit is checked on the declared length first, so an absurd body is refused
before it is read."""

from __future__ import annotations

from aiohttp import web


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, or HTTPRequestEntityTooLarge (413) when it passes `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
    body = await request.read()  # the server's own client_max_size also answers 413
    if len(body) > limit:  # a chunked body declares no length
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return body
