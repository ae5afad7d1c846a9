"""Work that waits for the commit of the change it tells of (mail, webhooks): held on the session, handed to its
dispatcher after the outermost commit, dropped (and logged) when the transaction ends without one."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db

log = logging.getLogger(__name__)

#: session.info key -> (what it holds, for the log; what sends a list of them; an item in a word, for the log).
_KINDS: dict[str, tuple[str, Callable[[list[Any]], None], Callable[[Any], str]]] = {}


def register(key: str, what: str, dispatch: Callable[[list[Any]], None], describe: Callable[[Any], str]) -> None:
    """Have `dispatch(items)` called with the items held under `key` once their transaction commits."""
    _KINDS[key] = (what, dispatch, describe)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)


def hold(key: str, item: Any) -> None:
    """Keep `item` until the current transaction of the app's session commits."""
    db.session.info.setdefault(key, []).append(item)


def _after_commit(session: Session) -> None:
    # Also called when a savepoint is released: the items wait for the outermost commit.
    if session.in_nested_transaction():
        return
    for key, (_what, dispatch, _describe) in _KINDS.items():
        pending = session.info.pop(key, None)
        if pending:
            dispatch(pending)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (rollback, close): what it held is dropped.
    if transaction.parent is None:
        for key, (what, _dispatch, describe) in _KINDS.items():
            dropped = session.info.pop(key, None)
            if dropped:
                log.info("%s dropped with a rolled-back transaction: %s", what, ", ".join(map(describe, dropped)))
