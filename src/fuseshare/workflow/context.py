"""The unit of work every workflow operation runs in, and the injected clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from fuseshare.config import Settings
from fuseshare.errors import StoreUnavailable
from fuseshare.store.tables import utcnow


@dataclass
class Context:
    sessions: sessionmaker[Session]
    settings: Settings
    clock: Callable[[], datetime] = utcnow

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error.

        Database outages become a StoreUnavailable with a message a person can act on.
        """
        try:
            with self.sessions() as session, session.begin():
                yield session
        except (OperationalError, SAInterfaceError) as exc:
            raise StoreUnavailable(
                "the database cannot be reached ("
                + str(exc.orig).strip().splitlines()[0][:200]
                + "); check DATABASE_URL and that the server is running"
            ) from exc
        except ProgrammingError as exc:
            if "does not exist" in str(exc.orig) or "no such table" in str(exc.orig):
                raise StoreUnavailable(
                    "the database has no fuseshare tables yet; run `fuseshare db upgrade`"
                ) from exc
            raise
