"""One HTTP session for a JSON server API (接口会话), shared by the WeChat and WeCom clients.

Network trouble, HTTP 5xx and 429 are transient (the outbox retries); any other non-200
answer is permanent. URLs are never logged: they carry the access_token or a robot key.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.transports.base import PermanentError, TransientError

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
TRANSFER_TIMEOUT = aiohttp.ClientTimeout(total=120)  # uploads and downloads of up to 20 MB


class JsonHttp:
    """A lazily opened `aiohttp` session and one request method, for `platform`'s API."""

    def __init__(self, platform: str, base_url: str) -> None:
        self._platform = platform  # the name in error messages: WeChat, WeCom
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: dict[str, Any] | None = None,
        *,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        """One call with a JSON `body` (UTF-8, Chinese unescaped: WeChat would show the
        escapes) or a multipart `form`; the answer's JSON object."""
        if form is not None:
            data: aiohttp.FormData | bytes | None = form
        else:
            data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        try:
            async with self._http().request(
                method,
                f"{self.base_url}{path}",
                params=params,
                data=data,
                headers=None if body is None else {"Content-Type": "application/json"},
                timeout=HTTP_TIMEOUT if form is None else TRANSFER_TIMEOUT,
            ) as response:
                if response.status >= 500 or response.status == 429:
                    raise TransientError(f"{self._platform} {path}: HTTP {response.status}")
                if response.status != 200:
                    raise PermanentError(f"{self._platform} {path}: HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"{self._platform} {path}: {type(exc).__name__}") from None
        if not isinstance(answer, dict):
            raise TransientError(f"{self._platform} {path}: unexpected answer")
        return answer


    async def _fetch(
        self, path: str, params: dict[str, str]
    ) -> tuple[dict[str, Any], tuple[str, str, bytes]]:
        """Download a file: (the error answer, or {"errcode": 0}; (file name, MIME type,
        content)). Such APIs answer an error as JSON in place of the file."""
        try:
            async with self._http().get(
                f"{self.base_url}{path}", params=params, timeout=TRANSFER_TIMEOUT
            ) as response:
                if response.status >= 500 or response.status == 429:
                    raise TransientError(f"{self._platform} {path}: HTTP {response.status}")
                if response.status not in (200, 206):
                    raise PermanentError(f"{self._platform} {path}: HTTP {response.status}")
                body = await response.read()
                mime = response.content_type or "application/octet-stream"
                disposition = response.content_disposition
                name = (disposition.filename if disposition else None) or ""
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"{self._platform} {path}: {type(exc).__name__}") from None
        if mime in {"application/json", "text/plain"} and body.lstrip().startswith(b"{"):
            try:
                answer = json.loads(body)
            except ValueError:
                answer = None
            if isinstance(answer, dict) and "errcode" in answer:
                return answer, ("", "", b"")
        return {"errcode": 0}, (name, mime, body)


__all__ = ["HTTP_TIMEOUT", "TRANSFER_TIMEOUT", "JsonHttp"]
