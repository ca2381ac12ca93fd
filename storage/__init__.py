"""Storage (存储): async SQLAlchemy engine, models, repositories and the unit of work.

Never imports handlers, reminders, bot or any messaging SDK.
"""

from storage.db import Database, StorageError
from storage.uow import UnitOfWork

__all__ = ["Database", "StorageError", "UnitOfWork"]
