"""A frozen clock: every reading the application takes through portal.timeutil says one instant.

The application reads the time only through ``portal.timeutil`` (``utcnow``,
``today_jst``), which ask ``datetime.now``; swapping that module's ``datetime``
for one whose ``now`` is fixed stops the clock wherever those helpers were
imported. The stand-in still passes ``isinstance`` checks for real datetimes.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from portal import timeutil


@contextmanager
def frozen_clock(at_utc: datetime):
    """Inside the block it is ``at_utc`` (naive UTC, as stored) for the whole application."""
    instant = at_utc.replace(tzinfo=UTC)

    class _AnyDatetime(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, datetime)

        def __subclasscheck__(cls, sub):
            return issubclass(sub, datetime)

    class FrozenDatetime(datetime, metaclass=_AnyDatetime):
        @classmethod
        def now(cls, tz=None):
            return instant.astimezone(tz) if tz is not None else instant.astimezone().replace(tzinfo=None)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timeutil, "datetime", FrozenDatetime)
        yield
