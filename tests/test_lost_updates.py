"""Lost updates: an edit form loaded before someone else's save never writes old values back.

Forms are read from the pages and sent back as a browser would (every input,
hidden ones included), so the version they carry is the one they were loaded with.
"""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select, update
from werkzeug.datastructures import MultiDict

from portal.accounts.models import Role
from portal.concurrency import STALE_MESSAGE
from portal.extensions import db
from tenants.activities.models import NetworkActivity
from tenants.core.audit import AuditEntry
from tenants.core.forms import form_status, submit
from tenants.members import services as members
from tenants.members.forms import OrganizationForm
from tenants.members.models import Contact, MemberOrganization
from tenants.network.models import Desk, Network
from tenants.reconfirmation.models import ReconfirmationTask
from tenants.rollout.models import NetworkStatusDeclaration, TownCertification
from tenants.scoping import Scope, scoped
from tests import factories as f
from tests.conftest import arranged, csrf_token, logged_in

M = f"/m/{f.NIIZA}"


class _Forms(HTMLParser):
    """Every <form> of a page as a browser would submit it: (action, [(name, value), ...])."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str | None, list[tuple[str, str]]]] = []
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action"), []))
            self._open = True
        if not getattr(self, "_open", False):
            return
        fields = self.forms[-1][1]
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((a["name"], a.get("value", "on")))
            else:
                fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = (a.get("name"), [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = [a.get("name"), ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = False
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            self.forms[-1][1].extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.forms[-1][1].append((name, text.removeprefix("\n")))
            self._textarea = None


class LoadedForm:
    """A form as loaded from a page; change fields, then send it."""

    def __init__(self, client, page: str, marker: str, action: str | None = None) -> None:
        parser = _Forms()
        parser.feed(client.get(page).get_data(as_text=True))
        [(found, pairs)] = [
            form for form in parser.forms
            if any(name == marker for name, _ in form[1]) and (action is None or form[0] == action)
        ]
        self.client, self.action, self.pairs = client, found or page, pairs

    @classmethod
    def from_response(cls, client, response, action: str, marker: str) -> LoadedForm:
        form = cls.__new__(cls)
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        [(_, pairs)] = [f for f in parser.forms if any(name == marker for name, _ in f[1])]
        form.client, form.action, form.pairs = client, action, pairs
        return form

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.pairs if n == name), None)

    def send(self, **changes):
        pairs = [(n, v) for n, v in self.pairs if n not in changes]
        for name, value in changes.items():
            if value is True:
                pairs.append((name, "y"))
            elif value is not False:
                pairs.append((name, value))
        return self.client.post(self.action, data=MultiDict(pairs))


@pytest.fixture
def world(app):
    with arranged(app) as session:
        m = f.municipality(f.NIIZA)
        org = f.organization(m, "新座市保健センター", "hoken_center", address="新座市野火止1-1-1", phone="048-477-1111")
        contact = f.contact(org, "見本 花子", title="母子保健係", phone="048-999-0001", confirmed=date(2025, 4, 1))
        session.add(Desk(municipality_id=m.id, name="新座市子育て総合支援窓口", phone="048-477-1112"))
        session.add(TownCertification(municipality_id=m.id, one_stop_desk=True))
        activity = f.activity(m, date(2026, 5, 20), title="第1回 情報交換会", participants=20)
        f.network(m)
        f.declaration(m, "established")
        return SimpleNamespace(
            municipality_id=m.id, org=org.id, contact=contact.id, activity=activity.id,
            desk=f.user(Role.DESK, m).email, desk2=f.user(Role.DESK, m).email,
            member=f.user(Role.MEMBER, m, organization_=org).email,
            prefecture=f.user(Role.PREFECTURE).email,
        )


def organization(app, org_id):
    with arranged(app):
        o = db.session.get(MemberOrganization, org_id)
        return SimpleNamespace(address=o.address, website=o.website, phone=o.phone, version=o.version)


def audit_changes(app, entity: str, entity_id: int) -> list[dict]:
    with arranged(app):
        return [e.changes for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id,
                                     AuditEntry.action == "update").order_by(AuditEntry.id)
        )]


def notice(response) -> str:
    html = response.get_data(as_text=True)
    assert 'data-testid="stale-notice"' in html
    return html.split('data-testid="stale-notice"')[1].split("</table>")[0]


# ---------------------------------------------------------------------------
# Two people editing one organisation


def test_two_concurrent_edits_refuse_the_second_with_the_difference_and_keep_both_after_reload(app, world):
    edit = f"{M}/members/{world.org}/edit"
    a = LoadedForm(logged_in(app, world.desk), edit, "website")
    b = LoadedForm(logged_in(app, world.desk2), edit, "website")

    assert b.send(address="新座市野火止2-2-2").status_code == 302
    refused = a.send(website="https://example.jp/hoken")

    assert refused.status_code == 409
    assert STALE_MESSAGE == "他の方が先に更新しました。"
    shown = notice(refused)
    assert "他の方が先に更新しました" in shown
    assert "<th scope=\"row\">住所</th><td>新座市野火止1-1-1</td><td>新座市野火止2-2-2</td><td>新座市野火止1-1-1</td>" in shown
    assert "ウェブサイト" not in shown  # nobody else changed it
    stored = organization(app, world.org)
    assert (stored.address, stored.website) == ("新座市野火止2-2-2", "")

    # A reloads the form and saves the website again: both changes are kept.
    again = LoadedForm(a.client, edit, "website")
    assert again.send(website="https://example.jp/hoken").status_code == 302
    stored = organization(app, world.org)
    assert (stored.address, stored.website) == ("新座市野火止2-2-2", "https://example.jp/hoken")
    # The audit trail holds exactly what each save applied; the refused one left nothing.
    assert audit_changes(app, "organization", world.org) == [
        {"address": ["新座市野火止1-1-1", "新座市野火止2-2-2"]},
        {"website": ["", "https://example.jp/hoken"]},
    ]


def test_the_refused_form_keeps_your_input_and_takes_the_other_change(app, world):
    edit = f"{M}/members/{world.org}/edit"
    a = LoadedForm(logged_in(app, world.desk), edit, "website")
    b = LoadedForm(logged_in(app, world.desk2), edit, "website")
    assert b.send(address="新座市野火止2-2-2").status_code == 302
    refused = a.send(website="https://example.jp/hoken")
    assert refused.status_code == 409

    shown_again = LoadedForm.from_response(a.client, refused, edit, "website")
    assert shown_again.value("website") == "https://example.jp/hoken"  # your input
    assert shown_again.value("address") == "新座市野火止2-2-2"  # their change, in a field you left alone
    assert shown_again.send().status_code == 302
    stored = organization(app, world.org)
    assert (stored.address, stored.website) == ("新座市野火止2-2-2", "https://example.jp/hoken")


def test_both_changing_the_same_field_shows_all_three_values_and_keeps_yours_in_the_form(app, world):
    edit = f"{M}/members/{world.org}/edit"
    a = LoadedForm(logged_in(app, world.desk), edit, "address")
    b = LoadedForm(logged_in(app, world.desk2), edit, "address")
    assert b.send(address="新座市野火止2-2-2").status_code == 302
    refused = a.send(address="新座市野火止3-3-3")
    assert refused.status_code == 409
    assert ("<th scope=\"row\">住所</th><td>新座市野火止1-1-1</td><td>新座市野火止2-2-2</td>"
            "<td>新座市野火止3-3-3</td>") in notice(refused)
    assert LoadedForm.from_response(a.client, refused, edit, "address").value("address") == "新座市野火止3-3-3"
    assert organization(app, world.org).address == "新座市野火止2-2-2"


def other_connection(app, database):
    """Another server process's connection. On PostgreSQL the owner's: a plain connection of the
    app's role carries no tenant setting, so row-level security would hide every row from it."""
    if database.name == "sqlite":
        with app.app_context():
            return db.engine
    return database.owner


RACE_IMPOSSIBLE_ON_SQLITE = (
    "a POST holds SQLite's one write lock from its first statement (portal/database.py), "
    "so no other writer can commit between the version check and the flush"
)


def test_a_newer_version_that_changed_none_of_the_fields_is_no_conflict(app, database, world):
    """Someone else's save that touched none of the form's fields (here: only the derived search text)."""
    edit = f"{M}/members/{world.org}/edit"
    desk = logged_in(app, world.desk)
    a = LoadedForm(desk, edit, "website")
    before = organization(app, world.org).version
    table = MemberOrganization.__table__
    with other_connection(app, database).begin() as connection:
        connection.execute(update(table).where(table.c.id == world.org)
                           .values(search_text="別の検索語", version=table.c.version + 1))
    assert organization(app, world.org).version > before
    assert a.send(website="https://example.jp/hoken").status_code == 302
    assert organization(app, world.org).website == "https://example.jp/hoken"


def test_a_form_without_its_version_is_refused(app, world):
    desk = logged_in(app, world.desk)
    edit = f"{M}/members/{world.org}/edit"
    form = LoadedForm(desk, edit, "website")
    form.pairs = [(n, v) for n, v in form.pairs if n not in ("version", "version_loaded")]
    response = form.send(website="https://example.jp/hoken")
    assert response.status_code == 409
    assert "ウェブサイト" in notice(response)
    assert organization(app, world.org).website == ""


def test_two_saves_racing_past_the_check_lose_to_the_database(app, database, world):
    """Both read version 1; the other commits first; this flush finds no row at version 1 (StaleDataError)."""
    if database.name == "sqlite":
        pytest.skip(RACE_IMPOSSIBLE_ON_SQLITE)
    edit = f"{M}/members/{world.org}/edit"
    form_data = MultiDict(LoadedForm(logged_in(app, world.desk), edit, "website").pairs)
    form_data["website"] = "https://example.jp/hoken"

    def other_worker_saves_first(org):
        # Another server process, on its own connection, after this request's version check.
        with other_connection(app, database).begin() as connection:
            connection.execute(
                update(MemberOrganization.__table__)
                .where(MemberOrganization.__table__.c.id == org.id)
                .values(address="新座市野火止9-9-9", version=MemberOrganization.__table__.c.version + 1)
            )

    with app.test_request_context(edit, method="POST", data=form_data), \
            scoped(db.session, Scope(municipality_id=world.municipality_id)):
        org = db.session.get(MemberOrganization, world.org)
        form = OrganizationForm(obj=org, meta={"csrf": False})

        def save(data):
            other_worker_saves_first(org)
            return members.update_organization(org, data)

        assert submit(form, save, current=org) is None
        assert form_status(form) == 409
        [difference] = form.stale.differences
        assert (difference.label, difference.loaded, difference.stored) == ("住所", "新座市野火止1-1-1", "新座市野火止9-9-9")
        db.session.rollback()
    stored = organization(app, world.org)
    assert (stored.address, stored.website) == ("新座市野火止9-9-9", "")
    assert audit_changes(app, "organization", world.org) == []


# ---------------------------------------------------------------------------
# Every edit form: a stale version is refused and nothing changes


def _org(w):
    o = db.session.get(MemberOrganization, w.org)
    return (o.name, o.name_kana, o.address, o.phone, o.website, o.version)


def _contact(w):
    c = db.session.get(Contact, w.contact)
    return (c.name, c.title, c.phone, c.last_confirmed_on, c.version)


def _network(w):
    n = db.session.scalar(select(Network))
    return (n.name, n.activity_summary, n.version)


def _desk(w):
    d = db.session.scalar(select(Desk))
    return (d.name, d.phone, d.opening_hours, d.version)


def _activity(w):
    a = db.session.get(NetworkActivity, w.activity)
    return (a.title, a.participants, a.note, a.version)


def _town(w):
    t = db.session.scalar(select(TownCertification))
    return (t.one_stop_desk, t.support_hubs, t.note, t.version)


def _declarations(w):
    latest = db.session.scalar(select(NetworkStatusDeclaration).order_by(NetworkStatusDeclaration.id.desc()).limit(1))
    return (db.session.scalar(select(func.count(NetworkStatusDeclaration.id))), latest.status)


def _audit(w):
    return db.session.scalar(select(func.count(AuditEntry.id)))


EDIT_FORMS = {
    # name: (who, page, a field only that form has, first save, stale save, label shown, stored row)
    "organisation (desk)": ("desk", "{M}/members/{w.org}/edit", "website",
                            {"address": "新座市野火止2-2-2"}, {"website": "https://example.jp/x"}, "住所", _org),
    "contact (desk)": ("desk", "{M}/contacts/{w.contact}/edit", "reachable_hours",
                       {"title": "子育て支援係"}, {"phone": "048-999-0009"}, "役職・部署", _contact),
    "network record": ("desk", "{M}/network/edit", "activity_summary",
                       {"name": "新座市子育て支援ネットワーク（改）"}, {"activity_summary": "学習会"}, "名称", _network),
    "desk": ("desk", "{M}/network/desk", "opening_hours",
             {"phone": "048-477-1113"}, {"opening_hours": "平日 8:30〜17:15"}, "電話番号", _desk),
    "activity": ("desk", "{M}/activities/{w.activity}/edit", "participants",
                 {"title": "第1回 情報交換会（報告）"}, {"participants": "25"}, "題名", _activity),
    "status declaration (desk)": ("desk", "{M}/status", "declared_on",
                                  {"status": "preparing"}, {"status": "not_started"}, "ネットワークの設置状況",
                                  _declarations),
    "status declaration (dashboard)": ("prefecture", "/dashboard/m/{f.NIIZA}", "declared_on",
                                       {"status": "preparing"}, {"status": "not_started"}, "ネットワークの設置状況",
                                       _declarations),
    "town checklist (dashboard)": ("prefecture", "/dashboard/m/{f.NIIZA}", "certified_on",
                                   {"note": "要件を確認"}, {"support_hubs": True}, "メモ", _town),
    "own organisation (member)": ("member", "{M}/my/organization/edit", "website",
                                  {"address": "新座市野火止2-2-2"}, {"phone": "048-477-1119"}, "住所", _org),
    "own contact (member)": ("member", "{M}/my/contacts/{w.contact}/edit", "reachable_hours",
                             {"title": "子育て支援係"}, {"phone": "048-999-0009"}, "役職・部署", _contact),
}


@pytest.mark.parametrize("case", list(EDIT_FORMS))
def test_every_edit_form_refuses_a_stale_version_and_changes_nothing(app, world, case):
    who, page, marker, first, second, label, stored = EDIT_FORMS[case]
    page = page.format(M=M, w=world, f=f)
    client = logged_in(app, getattr(world, who))
    loaded = LoadedForm(client, page, marker)
    other = LoadedForm(client, page, marker)  # the same page, opened a second time

    assert other.send(**first).status_code == 302
    with arranged(app):
        before, audited = stored(world), _audit(world)
    response = loaded.send(**second)

    assert response.status_code == 409, case
    assert label in notice(response)
    with arranged(app):
        assert stored(world) == before
        assert _audit(world) == audited


# ---------------------------------------------------------------------------
# 「変更なし」: a confirmation vouches only for the version the page showed


def contact(app, contact_id):
    with arranged(app):
        c = db.session.get(Contact, contact_id)
        return SimpleNamespace(title=c.title, phone=c.phone, last_confirmed_on=c.last_confirmed_on)


def test_confirming_a_contact_changed_since_the_page_was_loaded_is_refused(app, world):
    member = logged_in(app, world.member)
    confirm = f"{M}/my/contacts/{world.contact}/confirm"
    unchanged = LoadedForm(member, f"{M}/my/contacts", "version", action=confirm)
    desk_edit = LoadedForm(logged_in(app, world.desk), f"{M}/contacts/{world.contact}/edit", "reachable_hours")
    assert desk_edit.send(title="子育て支援係").status_code == 302

    response = unchanged.send()
    assert response.status_code == 409
    assert "他の方が先に更新しました" in response.get_data(as_text=True)
    assert "子育て支援係" in response.get_data(as_text=True)  # the page shows what is stored now
    stored = contact(app, world.contact)
    assert (stored.title, stored.last_confirmed_on) == ("子育て支援係", date(2025, 4, 1))


def test_completing_a_round_after_a_contact_changed_is_refused(app, world):
    desk = logged_in(app, world.desk)
    assert desk.post(f"{M}/reconfirmation/start",
                     data={"csrf_token": csrf_token(desk)}).status_code == 302
    member = logged_in(app, world.member)
    complete = LoadedForm(member, f"{M}/my/contacts", "contact_version")
    assert LoadedForm(desk, f"{M}/contacts/{world.contact}/edit", "reachable_hours").send(
        phone="048-999-0009").status_code == 302

    response = complete.send()
    assert response.status_code == 409
    assert "他の方が先に更新しました" in response.get_data(as_text=True)
    assert contact(app, world.contact).last_confirmed_on == date(2025, 4, 1)
    with arranged(app):
        assert db.session.scalar(select(ReconfirmationTask.completed_at)) is None
    # Reloaded, the same button confirms.
    assert LoadedForm(member, f"{M}/my/contacts", "contact_version").send().status_code == 302


def test_a_save_outside_an_edit_form_that_loses_the_race_answers_409_and_keeps_nothing(app, database, world):
    """「今日確認した」 while another worker saves the contact: the database refuses the stale UPDATE."""
    if database.name == "sqlite":
        pytest.skip(RACE_IMPOSSIBLE_ON_SQLITE)
    desk = logged_in(app, world.desk)
    token = csrf_token(desk)
    table = Contact.__table__

    done = []

    def other_worker_saves_first(session, flush_context, instances):
        if done or not any(isinstance(o, Contact) and o.id == world.contact for o in session.dirty):
            return
        done.append(True)
        with other_connection(app, database).begin() as connection:
            connection.execute(update(table).where(table.c.id == world.contact)
                               .values(phone="048-999-0009", version=table.c.version + 1))

    event.listen(db.session, "before_flush", other_worker_saves_first)
    try:
        response = desk.post(f"{M}/contacts/{world.contact}/confirm", data={"csrf_token": token})
    finally:
        event.remove(db.session, "before_flush", other_worker_saves_first)
    assert done and response.status_code == 409
    assert "他の方が先に更新しました" in response.get_data(as_text=True)
    stored = contact(app, world.contact)
    assert (stored.phone, stored.last_confirmed_on) == ("048-999-0009", date(2025, 4, 1))
