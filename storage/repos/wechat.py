"""WeChat's reach rules as state (微信客服消息窗口与额度): windows, quotas, tokens, notices.

Kept in the store so that every replica and every restart agrees: a contact's 48-hour
customer-service window and the messages left in it, the template notices already sent,
and the account's access token.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from storage.models import (
    InboundEvent,
    OutboxMessage,
    PlatformToken,
    WeChatContact,
    WeChatNoticeSent,
)
from storage.repos._base import Repo
from storage.repos.held import HOLD_UNTIL

PLATFORM = "wechat"


class WeChatRepo(Repo):
    """The customer-service window and quota of each contact, notices sent, the token."""

    async def note_inbound(self, openid: str, now: datetime, quota: int) -> None:
        """The contact wrote: the window opens again for 48 hours with a fresh quota."""
        stmt = self.insert(WeChatContact).values(
            openid=openid, last_inbound_at=now, sends_left=quota
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["openid"],
                set_={"last_inbound_at": now, "sends_left": quota},
            )
        )

    async def note_new_message(self, openid: str, event_id: str, now: datetime, quota: int) -> bool:
        """`note_inbound` unless the message (platform event `event_id`) was handled before:
        a redelivery or a replay refreshes nothing. One statement; whether it was new."""
        seen = (
            select(InboundEvent.event_id)
            .where(InboundEvent.platform == PLATFORM, InboundEvent.event_id == event_id)
            .exists()
        )
        stmt = self.insert(WeChatContact).values(
            openid=openid, last_inbound_at=now, sends_left=quota
        )
        result = await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["openid"],
                set_={"last_inbound_at": now, "sends_left": quota},
                where=~seen,
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def take_sends(self, openid: str, count: int, now: datetime, window: timedelta) -> bool:
        """Use `count` sends of the open window, atomically (replicas race here); False and
        nothing used when the window is closed or fewer are left."""
        result = await self.session.execute(
            update(WeChatContact)
            .where(
                WeChatContact.openid == openid,
                WeChatContact.last_inbound_at > now - window,
                WeChatContact.sends_left >= count,
            )
            .values(sends_left=WeChatContact.sends_left - count)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def take_up_to(self, openid: str, count: int, now: datetime, window: timedelta) -> int:
        """Use at most `count` sends of the open window: as many as are left; how many."""
        left = (
            await self.session.execute(
                select(WeChatContact.sends_left)
                .where(WeChatContact.openid == openid, WeChatContact.last_inbound_at > now - window)
                .with_for_update()
            )
        ).scalar_one_or_none()
        taken = min(left or 0, count)
        if taken > 0:
            await self.session.execute(
                update(WeChatContact)
                .where(WeChatContact.openid == openid)
                .values(sends_left=WeChatContact.sends_left - taken)
            )
        return taken

    async def give_back(self, openid: str, count: int) -> None:
        """Return sends taken for parts that were never sent (a transient failure)."""
        await self.session.execute(
            update(WeChatContact)
            .where(WeChatContact.openid == openid)
            .values(sends_left=WeChatContact.sends_left + count)
        )

    async def close_window(self, openid: str) -> None:
        """WeChat said the window is closed or the quota used (45015 / 45047): believe it."""
        await self.session.execute(
            update(WeChatContact).where(WeChatContact.openid == openid).values(sends_left=0)
        )

    async def missed_releases(self, now: datetime, window: timedelta) -> list[str]:
        """Contacts with an open window and messages held *before* they last wrote: held
        while they were writing, so their message did not release them."""
        rows = await self.session.execute(
            select(OutboxMessage.chat_external_id)
            .join(WeChatContact, WeChatContact.openid == OutboxMessage.chat_external_id)
            .where(
                OutboxMessage.platform == PLATFORM,
                OutboxMessage.status == "pending",
                OutboxMessage.not_before == HOLD_UNTIL,
                OutboxMessage.claimed_at < WeChatContact.last_inbound_at,
                WeChatContact.last_inbound_at > now - window,
                WeChatContact.sends_left > 0,
            )
            .distinct()
        )
        return sorted(rows.scalars())

    async def contact(self, openid: str) -> WeChatContact | None:
        """The contact's window state, or None when they never wrote."""
        return await self.session.get(WeChatContact, openid, populate_existing=True)

    # -- template notices ---------------------------------------------------------------
    async def notice_sent(self, key: str) -> bool:
        """Whether the template notice of this waiting message went out already."""
        return await self.session.get(WeChatNoticeSent, key) is not None

    async def record_notice(self, key: str, now: datetime) -> bool:
        """Record the notice as sent; False when another replica recorded it first."""
        return await self.insert_if_new(WeChatNoticeSent, {"key": key, "sent_at": now})

    # -- the access token ---------------------------------------------------------------
    async def token_until(self, name: str, now: datetime) -> tuple[str, datetime] | None:
        """The stored token and its expiry, while it is still valid at `now`."""
        row = await self.session.execute(
            select(PlatformToken.value, PlatformToken.expires_at).where(
                PlatformToken.name == name, PlatformToken.expires_at > now
            )
        )
        found = row.one_or_none()
        return None if found is None else (found[0], found[1])

    async def save_token(
        self, name: str, value: str, expires_at: datetime, now: datetime
    ) -> tuple[str, datetime]:
        """Keep a freshly fetched token unless another replica stored a valid one first;
        the token every replica is to use from now on."""
        stmt = self.insert(PlatformToken).values(name=name, value=value, expires_at=expires_at)
        table = PlatformToken.__table__
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": value, "expires_at": expires_at},
                where=table.c.expires_at <= now,
            )
        )
        kept = await self.token_until(name, now)
        return kept if kept is not None else (value, expires_at)

    async def drop_token(self, name: str, value: str) -> None:
        """Forget the token WeChat refused, unless another replica already replaced it."""
        await self.session.execute(
            delete(PlatformToken).where(PlatformToken.name == name, PlatformToken.value == value)
        )


__all__ = ["WeChatRepo"]
