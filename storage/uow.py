"""The unit of work (工作单元): one transaction per event.

A handler's state change, its work-log events and the messages it wants sent are written
through one ``UnitOfWork`` and commit together, or not at all.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, StorageError, is_unavailable
from storage.repos import (
    ChatRepo,
    ConversationRepo,
    DepartmentRepo,
    EnterpriseRepo,
    EventLog,
    InboundRepo,
    JobRunRepo,
    OutboxRepo,
    PeopleRepo,
)
from storage.repos.activities import ActivityRepo
from storage.repos.applications import ApplicationRepo
from storage.repos.arrivals import ArrivalRepo
from storage.repos.cards import CardRepo
from storage.repos.digests import DigestRepo
from storage.repos.due import DueRepo
from storage.repos.files import FileRepo
from storage.repos.held import HeldRepo
from storage.repos.invites import InviteRepo
from storage.repos.items import ItemRepo
from storage.repos.members import MemberRepo
from storage.repos.mutes import MuteRepo
from storage.repos.outbox_workers import OutboxWorkerRepo
from storage.repos.problems import ProblemRepo
from storage.repos.projects import ProjectRepo
from storage.repos.rate_slots import RateSlotRepo
from storage.repos.ratings import RatingRepo
from storage.repos.sequences import SequenceRepo
from storage.repos.tickets import TicketRepo
from storage.repos.transport_values import TransportValueRepo
from storage.repos.wechat import WeChatRepo


class UnitOfWork:
    """One transaction: state, events and outbox rows commit together or not at all.

    ``async with UnitOfWork(db) as uow: ...`` begins at once (``BEGIN IMMEDIATE`` on
    SQLite, so reads made here are not stale when written back), commits on a clean exit
    and rolls back on an exception. Do not nest units of work on one in-memory database.
    A failure that means the database is unavailable (the connection broke mid-way, the
    commit could not reach the server) leaves as ``StorageError``, whatever raised it.
    """

    session: AsyncSession
    arrivals: ArrivalRepo
    people: PeopleRepo
    chats: ChatRepo
    conversations: ConversationRepo
    events: EventLog
    outbox: OutboxRepo
    inbound: InboundRepo
    jobs: JobRunRepo
    departments: DepartmentRepo
    digests: DigestRepo
    enterprises: EnterpriseRepo
    applications: ApplicationRepo
    projects: ProjectRepo
    activities: ActivityRepo
    files: FileRepo
    held: HeldRepo
    wechat: WeChatRepo
    sequences: SequenceRepo
    tickets: TicketRepo
    due: DueRepo
    problems: ProblemRepo
    ratings: RatingRepo
    members: MemberRepo
    mutes: MuteRepo
    items: ItemRepo
    invites: InviteRepo
    cards: CardRepo
    rate_slots: RateSlotRepo
    transport_values: TransportValueRepo
    outbox_workers: OutboxWorkerRepo

    def __init__(self, db: Database) -> None:
        self.db = db
        self._turn: contextlib.AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> UnitOfWork:
        turn = self.db.turn()
        await turn.__aenter__()
        try:
            self.session = await self.db.open_session()
        except BaseException:
            await turn.__aexit__(None, None, None)
            raise
        self._turn = turn
        session = self.session
        self.arrivals = ArrivalRepo(session)
        self.people = PeopleRepo(session)
        self.chats = ChatRepo(session)
        self.conversations = ConversationRepo(session)
        self.events = EventLog(session)
        self.outbox = OutboxRepo(session)
        self.inbound = InboundRepo(session)
        self.jobs = JobRunRepo(session)
        self.departments = DepartmentRepo(session)
        self.digests = DigestRepo(session)
        self.enterprises = EnterpriseRepo(session)
        self.applications = ApplicationRepo(session)
        self.projects = ProjectRepo(session)
        self.activities = ActivityRepo(session)
        self.files = FileRepo(session)
        self.held = HeldRepo(session)
        self.wechat = WeChatRepo(session)
        self.sequences = SequenceRepo(session)
        self.tickets = TicketRepo(session)
        self.due = DueRepo(session)
        self.problems = ProblemRepo(session)
        self.ratings = RatingRepo(session)
        self.members = MemberRepo(session)
        self.mutes = MuteRepo(session)
        self.items = ItemRepo(session)
        self.invites = InviteRepo(session)
        self.cards = CardRepo(session)
        self.rate_slots = RateSlotRepo(session)
        self.transport_values = TransportValueRepo(session)
        self.outbox_workers = OutboxWorkerRepo(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                with contextlib.suppress(Exception):  # the line may be gone: nothing to undo
                    await self.session.rollback()
                if exc is not None and not isinstance(exc, StorageError) and is_unavailable(exc):
                    raise self.db.error(exc, "use") from exc
            elif self.session.in_transaction():
                try:
                    await self.outbox.write_kept()
                    await self.session.commit()
                except Exception as failed:
                    if is_unavailable(failed):
                        raise self.db.error(failed, "commit to") from failed
                    raise
        finally:
            try:
                await self.session.close()
            finally:
                turn, self._turn = self._turn, None
                if turn is not None:
                    await turn.__aexit__(None, None, None)

    async def commit(self) -> None:
        """Commit now; later work in this unit starts a new transaction."""
        await self.outbox.write_kept()
        await self.session.commit()

    async def rollback(self) -> None:
        """Discard everything since the last commit."""
        await self.session.rollback()

    async def flush(self) -> None:
        """Send pending changes to the database (ids become known) without committing."""
        await self.session.flush()


__all__ = ["UnitOfWork"]
