"""Concurrent writes through a real threaded server (issue 10 item 10), on both databases.

On SQLite every write request holds the one write lock from its first
statement (BEGIN IMMEDIATE, busy timeout, WAL), so none fails with
"database is locked"; the registration limits hold exactly because
applications are taken one at a time (portal.database.serialise).
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.timeutil import today_jst
from tenants.members.models import Contact
from tenants.registration.models import Registration
from tests import factories as f
from tests.conftest import arranged
from tests.live import WebClient, live_server
from tests.test_coverage_rule import assert_kept_equals_rebuilt
from tests.test_registration import VALID

M = f"/m/{f.NIIZA}"
THREADS = 64


@pytest.fixture
def town(app):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.network(m)
        orgs = [f.organization(m, f"新座市の団体{i}") for i in range(8)]
        contacts = [f.contact(orgs[i % 8], f"架空 担当{i}", confirmed=None) for i in range(THREADS)]
        desks = [f.user(Role.DESK, m).email for _ in range(8)]
        return SimpleNamespace(orgs=[o.id for o in orgs], contacts=[c.id for c in contacts], desks=desks)


def run_together(n: int, work) -> list:
    """Run work(i, start) in n threads; each calls start() when ready, so the writes begin together."""
    barrier = threading.Barrier(n, timeout=120)
    results: list = [None] * n
    errors: list = []

    def body(i: int) -> None:
        try:
            results[i] = work(i, barrier.wait)
        except BaseException as e:  # reported below, with the thread's number
            errors.append((i, repr(e)))
            barrier.abort()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    return results


def application(i: int) -> dict:
    return {**VALID, "org_name": f"申請団体{i}", "contact_email": f"apply{i}@example.jp"}


def test_64_threads_writing_through_the_forms_get_no_5xx_and_lose_nothing(app, town):
    app.config["REGISTRATION_MAX_PER_ADDRESS"] = 1000  # every thread comes from 127.0.0.1
    with live_server(app) as base:

        def work(i: int, start) -> list[int]:
            web = WebClient(base)
            if i % 4 == 3:  # an organisation applying on the public form
                token = web.csrf(f"{M}/join")
                start()
                return [web.request(f"{M}/join", {**application(i), "csrf_token": token})[0]]
            web.login(town.desks[i % 8])
            token = web.csrf(f"{M}/members")
            start()
            org = town.orgs[i % 8]
            return [
                web.request(f"{M}/contacts/{town.contacts[i]}/confirm", {"csrf_token": token})[0],  # 今日確認した
                web.request(f"{M}/members/{org}/contacts/new", {"name": f"新任 {i}", "phone": "048-477-0000", "csrf_token": token})[0],
                web.request(f"{M}/contacts/{town.contacts[i]}/confirm", {"csrf_token": token})[0],
            ]

        statuses = [s for per_thread in run_together(THREADS, work) for s in per_thread]
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) == {302}
    writers = [i for i in range(THREADS) if i % 4 != 3]
    with arranged(app) as session:
        confirmed = session.scalars(select(Contact.id).where(Contact.last_confirmed_on == today_jst())).all()
        assert {town.contacts[i] for i in writers} <= set(confirmed)
        assert session.scalar(select(func.count()).select_from(Contact).where(Contact.name.like("新任 %"))) == len(writers)
        assert session.scalar(select(func.count()).select_from(Registration)) == THREADS - len(writers)
    # The dashboard's figures of the municipality, refreshed by each of those commits, lost none.
    assert_kept_equals_rebuilt(app, "64 threads")


def test_concurrent_applications_never_exceed_the_hourly_cap(app, town):
    app.config.update(REGISTRATION_MAX_PER_HOUR=10, REGISTRATION_MAX_PER_ADDRESS=1000)
    with live_server(app) as base:

        def work(i: int, start) -> int:
            web = WebClient(base)
            token = web.csrf(f"{M}/join")
            start()
            return web.request(f"{M}/join", {**application(i), "csrf_token": token})[0]

        statuses = run_together(30, work)
    assert sorted(statuses) == [302] * 10 + [429] * 20
    with arranged(app) as session:
        assert session.scalar(select(func.count()).select_from(Registration)) == 10


def test_concurrent_applications_from_one_sender_never_exceed_its_limit(app, town):
    # REGISTRATION_MAX_PER_ADDRESS (5) per sender, every thread from 127.0.0.1, spread over two municipalities.
    with arranged(app):
        f.network(f.municipality(f.KAWAGOE))
    with live_server(app) as base:

        def work(i: int, start) -> int:
            web = WebClient(base)
            path = f"/m/{f.NIIZA if i % 2 else f.KAWAGOE}/join"
            token = web.csrf(path)
            start()
            return web.request(path, {**application(i), "csrf_token": token})[0]

        statuses = run_together(20, work)
    assert sorted(statuses) == [302] * 5 + [429] * 15
