"""Plain text in pieces (文本分段) for messengers that count bytes (WeCom, WeChat)."""

from __future__ import annotations


def plain(text: str) -> str:
    """Our light markup without the bold markers, for text messages."""
    return text.replace("**", "")


def split_bytes(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while len(line.encode()) > limit:  # one very long line: cut by characters
            cut = len(line.encode()[:limit].decode("utf-8", errors="ignore"))
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


__all__ = ["plain", "split_bytes"]
