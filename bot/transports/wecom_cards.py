"""Cards that close (卡片按钮只响应一次): a WeCom button card is answered once.

WeCom sends a `template_card_event` for every press, with the card's TaskId and a fresh
ResponseCode that may update the card once within 72 hours. The first press closes the
card in the store (one UPDATE, so two replicas hearing two presses agree), queues the
update that replaces the buttons with the chosen label and who pressed it, and lets the
event through to the handlers. Any later press, or a press on a card the store never
sent, runs nothing: the person is told so. WeCom's redelivery of the first press (same
ResponseCode) goes through again, and the inbound dedupe drops it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element

from handlers.chat import Outgoing
from handlers.i18n import N_, gettext
from storage.db import Database
from storage.uow import UnitOfWork

PLATFORM = "wecom"
CARD_UPDATE = "card_update"  # the outbox payload key of an update_template_card

ALREADY_ANSWERED = N_(
    "This card was already answered: “{label}”, by {name}. Nothing was done again."
)
NO_LONGER_ACTIVE = N_(
    "This card is no longer active, so nothing was done. Use the latest message, or send /help."
)
PRESSED_BY = N_("{label} · {name}")


@dataclass(frozen=True)
class CardPress:
    """A button pressed on a card: which card, which button, by whom, and the code that
    may update the card once."""

    task_id: str
    key: str
    userid: str
    response_code: str


def card_press(root: Element) -> CardPress | None:
    """The press in a decrypted callback, or None when it is not a card press."""
    if (root.findtext("Event") or "").strip() != "template_card_event":
        return None
    task_id = (root.findtext("TaskId") or "").strip()
    userid = (root.findtext("FromUserName") or "").strip()
    if not task_id or not userid:
        return None
    return CardPress(
        task_id=task_id,
        key=root.findtext("EventKey") or "",
        userid=userid,
        response_code=(root.findtext("ResponseCode") or "").strip(),
    )


async def close_card(db: Database, press: CardPress, now: datetime) -> bool:
    """Close the card for this press; True when the press is the card's answer (the first,
    or WeCom redelivering it), False when it was refused and the person told why."""
    async with UnitOfWork(db) as uow:
        result = await uow.cards.press(
            PLATFORM,
            press.task_id,
            by=press.userid,
            payload=press.key,
            response_code=press.response_code or None,
            now=now,
        )
        card = result.card
        redelivered = (
            card is not None
            and bool(press.response_code)
            and card.response_code == press.response_code
        )
        person = await uow.people.by_account(PLATFORM, press.userid)
        lang = person.lang if person is not None else "zh_CN"
        if result.first and card is not None:
            if press.response_code:
                label = _label(card.buttons, press.key)
                name = person.name if person is not None else press.userid
                await uow.outbox.enqueue(
                    platform=PLATFORM,
                    chat_external_id=press.userid,
                    payload={
                        CARD_UPDATE: {
                            "response_code": press.response_code,
                            "replace_name": gettext(lang, PRESSED_BY).format(
                                label=label, name=name
                            ),
                        }
                    },
                    dedupe_key=f"card-closed:{press.task_id}",
                    now=now,
                    person_id=person.id if person is not None else None,
                    source_event_id=f"card:{press.task_id}",
                )
            return True
        if redelivered:
            return True
        if card is None:
            text = gettext(lang, NO_LONGER_ACTIVE)
        else:
            pressed_by = await uow.people.by_account(PLATFORM, card.pressed_by or "")
            text = gettext(lang, ALREADY_ANSWERED).format(
                label=_label(card.buttons, card.pressed_payload or ""),
                name=pressed_by.name if pressed_by is not None else card.pressed_by,
            )
        await uow.outbox.enqueue(
            platform=PLATFORM,
            chat_external_id=press.userid,
            payload=Outgoing(text).to_payload(),
            # One notice per refused press (WeCom's redelivery carries the same code).
            dedupe_key=f"card-refused:{press.task_id}:{press.response_code or now.isoformat()}",
            now=now,
            person_id=person.id if person is not None else None,
            source_event_id=f"card:{press.task_id}",
        )
        return False


def _label(buttons: list[dict[str, str]], key: str) -> str:
    return next((b["label"] for b in buttons if b.get("payload") == key), key)


__all__ = ["CARD_UPDATE", "CardPress", "card_press", "close_card"]
