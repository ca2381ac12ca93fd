"""aiogram imported with its types built on first use reads and writes exactly what an
eagerly built aiogram does, and really leaves the unused types unbuilt.

The lazy import only works in a process that has not imported aiogram yet, so it runs in
a fresh interpreter; this test process (where aiogram is built eagerly) is the reference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

UPDATES: list[dict[str, Any]] = [
    {
        "update_id": 10,
        "message": {
            "message_id": 5,
            "date": 1764633600,
            "chat": {"id": -100123, "type": "supergroup", "title": "项目组"},
            "from": {"id": 7, "is_bot": False, "first_name": "张", "language_code": "zh-hans"},
            "text": "/status@daiban_bot 甲-1",
            "entities": [{"type": "bot_command", "offset": 0, "length": 18}],
            "reply_to_message": {
                "message_id": 4,
                "date": 1764633500,
                "chat": {"id": -100123, "type": "supergroup", "title": "项目组"},
                "text": "earlier",
            },
        },
    },
    {
        "update_id": 11,
        "message": {
            "message_id": 6,
            "date": 1764633601,
            "chat": {"id": 7, "type": "private", "first_name": "张"},
            "from": {"id": 7, "is_bot": False, "first_name": "张"},
            "document": {
                "file_id": "F1",
                "file_unique_id": "U1",
                "file_name": "营业执照.pdf",
                "mime_type": "application/pdf",
                "file_size": 1234,
            },
            "caption": "licence",
        },
    },
    {
        "update_id": 12,
        "callback_query": {
            "id": "cb1",
            "from": {"id": 7, "is_bot": False, "first_name": "张"},
            "chat_instance": "ci",
            "data": "apply:start",
            "message": {
                "message_id": 7,
                "date": 1764633602,
                "chat": {"id": 7, "type": "private", "first_name": "张"},
                "text": "choose",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "申请", "callback_data": "apply:start"}]]
                },
            },
        },
    },
]
SENT = {
    "ok": True,
    "result": {
        "message_id": 8,
        "date": 1764633603,
        "chat": {"id": 7, "type": "private", "first_name": "张"},
        "text": "好的",
        "entities": [{"type": "bold", "offset": 0, "length": 2}],
    },
}
ME = {"ok": True, "result": {"id": 99, "is_bot": True, "first_name": "Daiban", "username": "d"}}

# What both processes compute: the updates parsed, two answers read, a request written.
PROBE = """
import json
from aiogram import methods
from aiogram.client.default import Default
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update

def probe(updates, sent, me):
    parsed = [Update.model_validate(u).model_dump(mode="json", exclude_none=True) for u in updates]
    answer = Response[methods.SendMessage.__returning__].model_validate(sent)
    bot = Response[methods.GetMe.__returning__].model_validate(me)
    request = methods.SendMessage(
        chat_id=7,
        text="<b>好的</b>",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="是", callback_data="y")]]
        ),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    written = {  # the session fills aiogram's Default(...) placeholders in when sending
        key: value
        for key, value in request.model_dump(exclude_none=True).items()
        if not isinstance(value, Default)
    }
    return {
        "updates": parsed,
        "answer": answer.result.model_dump(mode="json", exclude_none=True),
        "me": bot.result.model_dump(mode="json", exclude_none=True),
        "request": json.loads(json.dumps(written, default=str)),
    }
"""

LAZY = (
    "import sys, json\n"
    f"sys.path.insert(0, {str(ROOT)!r})\n"
    "from bot.transports.aiogram_lazy import import_aiogram\n"
    "import_aiogram()\n"
    "import aiogram.types as types\n"
    "unbuilt = [n for n in ('Sticker', 'Giveaway', 'Invoice', 'Game', 'Update')\n"
    "           if not getattr(types, n).__pydantic_complete__]\n"
    + PROBE
    + "data = json.loads(sys.stdin.read())\n"
    "out = probe(data['updates'], data['sent'], data['me'])\n"
    "out['unbuilt_before'] = unbuilt\n"
    "out['unbuilt_after'] = [n for n in ('Sticker', 'Update')\n"
    "                        if not getattr(types, n).__pydantic_complete__]\n"
    "print(json.dumps(out, ensure_ascii=False))\n"
)


def test_lazily_built_aiogram_reads_and_writes_what_eager_aiogram_does() -> None:
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(PROBE), namespace)  # this process: aiogram built at import
    expected = namespace["probe"](UPDATES, SENT, ME)

    run = subprocess.run(
        [sys.executable, "-c", LAZY],
        input=json.dumps({"updates": UPDATES, "sent": SENT, "me": ME}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lazy = json.loads(run.stdout)

    # Nothing was built at import; what was used got built, what was not stays unbuilt.
    assert lazy.pop("unbuilt_before") == ["Sticker", "Giveaway", "Invoice", "Game", "Update"]
    assert lazy.pop("unbuilt_after") == ["Sticker"]
    assert lazy == expected
    assert expected["updates"][1]["message"]["document"]["file_name"] == "营业执照.pdf"
    assert expected["request"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "y"
