"""A terminal chat (终端对话) with the same core: try Daiban by hand with no messenger.

Type text or /commands; `#2` presses button 2 of the last message; `/as ROLE` switches to
the demo person of another role (enterprise, butler, specialist, backup, office, leader);
`/quit` leaves.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from typing import Any, TextIO

from bot.transports.host import TransportHost
from handlers.chat import ChatKind, Incoming, Outgoing, Sender
from handlers.roles import ROLES
from storage.uow import UnitOfWork

PLATFORM = "terminal"
DEMO_NAMES = {
    "enterprise": "张伟",
    "butler": "李娜",
    "specialist": "王强",
    "backup": "刘洋",
    "office": "赵敏",
    "leader": "陈刚",
}


class TerminalTransport:
    platform = PLATFORM

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last: dict[str, Outgoing] = {}

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        msg = Outgoing.from_payload(payload)
        if msg.buttons:
            self.last[chat_external_id] = msg
        print(f"\n🤖 → {chat_external_id}\n{msg.text}", file=self.out)
        numbered = [b for row in msg.buttons for b in row]
        for number, button in enumerate(numbered, start=1):
            print(f"   #{number} [{button.label}]", file=self.out)
        self.out.flush()


async def ensure_persona(app: TransportHost, role: str) -> None:
    department = app.services.scheme.departments[0].id if role in {"specialist", "backup"} else None
    async with UnitOfWork(app.services.db) as uow:
        if await uow.people.by_account(PLATFORM, role) is None:
            now = app.services.clock.now()
            person = await uow.people.add(DEMO_NAMES[role], roles=[(role, department)], now=now)
            await uow.people.add_account(person.id, PLATFORM, role, DEMO_NAMES[role], now=now)


async def terminal_chat(
    app: TransportHost, role: str, inp: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> None:
    transport = TerminalTransport(out)
    app.transports[PLATFORM] = transport
    counter = itertools.count(1)
    await ensure_persona(app, role)
    print(
        f"Chatting as {DEMO_NAMES[role]} ({role}). Try /start. `#N` presses a button, "
        "`/as ROLE` switches person, `/quit` leaves.",
        file=out,
    )
    while True:
        print(f"{role}> ", end="", file=out, flush=True)
        line = await asyncio.to_thread(inp.readline)
        if not line or line.strip() in {"/quit", "/exit"}:
            break
        text = line.rstrip("\n")
        if text.startswith("/as "):
            wanted = text[4:].strip()
            if wanted not in ROLES:
                print(f"roles: {', '.join(ROLES)}", file=out)
                continue
            role = wanted
            await ensure_persona(app, role)
            continue
        fields: dict[str, Any] = {"text": text}
        if text.startswith("#") and text[1:].isdigit():
            last = transport.last.get(role)
            buttons = [b for row in last.buttons for b in row] if last else []
            number = int(text[1:])
            if not 1 <= number <= len(buttons):
                print("no such button", file=out)
                continue
            fields = {"payload": buttons[number - 1].payload}
        else:
            command, args = Incoming.parse_command(text)
            fields.update(command=command, args=args if command else "")
        event = Incoming(
            event_id=f"t{app.services.clock.now().timestamp()}-{next(counter)}",
            sender=Sender(PLATFORM, role, DEMO_NAMES[role], "zh-CN"),
            chat_id=role,
            chat_kind=ChatKind.DM,
            **fields,
        )
        await app.handle(event)
        await app.worker.drain()
