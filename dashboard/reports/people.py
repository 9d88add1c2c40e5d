"""Per-person reads of a campaign: who answered what, who has not answered, one person's history,
and the breakdown by department. Filtering, sorting and paging happen in SQL; only the page of
rows shown is loaded.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, cast, func, select, true, union

from ..extensions import db
from ..models import Campaign, CardEvent, Delivery, DirectoryDepartment, DirectoryUser, Respondent
from ..paging import Page
from . import queries
from .queries import REPLY

PER_PAGE = 50
SORTS = ("time", "userid", "name")


@dataclass
class Filters:
    option: tuple[str, str] | None = None  # (question_key, option_id) of the latest answer
    department: int | None = None  # the department or any below it
    answered: str | None = None  # "yes", "no" or None for everyone who got the card
    sort: str = "time"
    descending: bool = True
    page: int = 1


# --- departments -------------------------------------------------------------------------------


def directory_known() -> bool:
    return db.session.scalar(select(DirectoryDepartment.id).limit(1)) is not None


def department_names() -> dict[int, str]:
    return dict(db.session.execute(select(DirectoryDepartment.id, DirectoryDepartment.name)).all())


def memberships():
    """(userid, department_id) for every department each cached person belongs to."""
    if db.engine.dialect.name == "postgresql":
        values = func.jsonb_array_elements_text(DirectoryUser.departments).table_valued(
            "value").lateral("dept")
    else:
        values = func.json_each(DirectoryUser.departments).table_valued("value").alias("dept")
    return (select(DirectoryUser.userid, cast(values.c.value, Integer).label("department_id"))
            .select_from(DirectoryUser).join(values, true()).subquery("membership"))


def subtree(department_id: int) -> list[int]:
    """The department and every department below it."""
    children: dict[int, list[int]] = {}
    for dept, parent in db.session.execute(select(DirectoryDepartment.id, DirectoryDepartment.parent_id)):
        children.setdefault(parent, []).append(dept)
    found, todo = set(), [department_id]
    while todo:
        dept = todo.pop()
        if dept not in found:
            found.add(dept)
            todo.extend(children.get(dept, []))
    return sorted(found)


def by_department(campaign: Campaign, ids: list[int]) -> dict:
    """Per department: people who got the card, who answered, and their latest answers.
    People in several departments count in each of them."""
    member = memberships()
    got = dict(db.session.execute(
        select(member.c.department_id, func.count())
        .join(Delivery, Delivery.userid == member.c.userid)
        .where(Delivery.campaign_id == campaign.id, Delivery.state == "accepted")
        .group_by(member.c.department_id)).all())
    people = queries.respondents(ids).subquery("responder_rows")
    answered = dict(db.session.execute(
        select(member.c.department_id, func.count())
        .join(people, people.c.userid == member.c.userid)
        .group_by(member.c.department_id)).all())
    answers = queries.current_answers(ids).subquery("answer_rows")
    options: dict[int, dict[str, dict[str, int]]] = {}
    for dept, question, option, n in db.session.execute(
            select(member.c.department_id, answers.c.question_key, answers.c.option_id, func.count())
            .join(answers, answers.c.userid == member.c.userid)
            .group_by(member.c.department_id, answers.c.question_key, answers.c.option_id)):
        options.setdefault(dept, {}).setdefault(question, {})[option] = n
    return {"got": got, "answered": answered, "options": options}


# --- who answered what -------------------------------------------------------------------------


def _people(campaign: Campaign, ids: list[int], answered: str | None):
    """The userids in scope: responders, recipients who have not answered, or both."""
    got = select(Delivery.userid.label("userid")).where(
        Delivery.campaign_id == campaign.id, Delivery.state == "accepted")
    responders = select(Respondent.userid).where(Respondent.campaign_id == ids[0])
    if answered == "yes":
        return responders
    if answered == "no":
        return got.where(~queries.has_answered(ids, Delivery.userid))
    return union(got, responders)


def _matching(campaign: Campaign, ids: list[int], filters: Filters):
    """The userids in scope that pass the answer and department filters."""
    scope = _people(campaign, ids, filters.answered).subquery("person")
    query = select(scope.c.userid)
    if filters.option:
        chosen = queries.current_answers(ids).subquery("chosen")
        query = query.where(scope.c.userid.in_(select(chosen.c.userid).where(
            chosen.c.question_key == filters.option[0], chosen.c.option_id == filters.option[1])))
    if filters.department is not None:
        member = memberships()
        query = query.where(scope.c.userid.in_(select(member.c.userid).where(
            member.c.department_id.in_(subtree(filters.department)))))
    return query.subquery("matching")


def answer_table(campaign: Campaign, ids: list[int], filters: Filters, per_page: int = PER_PAGE) -> Page:
    """Who answered what: a page of people with their name, departments, latest answer per
    question, last button, times and how many answers they sent.

    The page's userids are chosen first, joining only what the sort needs (the responder row by
    its unique key; the directory only to sort by name); names, times and answers are then read
    for those people alone."""
    matching = _matching(campaign, ids, filters)
    total = db.session.scalar(select(func.count()).select_from(matching))
    sort = filters.sort if filters.sort in SORTS else "time"
    column = {"time": Respondent.last_time, "userid": matching.c.userid, "name": DirectoryUser.name}[sort]
    order = column.desc() if filters.descending else column.asc()
    query = select(matching.c.userid).outerjoin(Respondent, (Respondent.campaign_id == ids[0])
                                                & (Respondent.userid == matching.c.userid))
    if sort == "name":
        query = query.outerjoin(DirectoryUser, DirectoryUser.userid == matching.c.userid)
    userids = list(db.session.scalars(query.order_by(order.nulls_last(), matching.c.userid)
                                      .limit(per_page).offset((filters.page - 1) * per_page)))
    times = {row.userid: row for row in db.session.execute(queries.respondents(ids, userids))}
    directory = {user.userid: user for user in db.session.scalars(
        select(DirectoryUser).where(DirectoryUser.userid.in_(userids)))} if userids else {}
    answers, keys = answers_of(ids, userids), last_keys(ids, userids)
    rows = []
    for userid in userids:
        user, responded = directory.get(userid), times.get(userid)
        rows.append({"userid": userid, "name": user.name if user else None,
                     "departments": user.departments if user else None,
                     "first_time": responded.first_time if responded else None,
                     "last_time": responded.last_time if responded else None,
                     "answers": responded.answers if responded else None,
                     "answer": answers.get(userid, {}), "key": keys.get(userid)})
    return Page(rows, filters.page, per_page, total)


def answers_of(ids: list[int], userids: list[str]) -> dict[str, dict[str, list[str]]]:
    """{userid: {question: [options]}}: the latest answers of a page of people."""
    out: dict[str, dict[str, list[str]]] = {}
    if not userids:
        return out
    answers = queries.current_answers(ids, userids).subquery("answer_rows")
    for userid, question, option in db.session.execute(
            select(answers.c.userid, answers.c.question_key, answers.c.option_id)
            .order_by(answers.c.userid, answers.c.question_key, answers.c.option_id)):
        out.setdefault(userid, {}).setdefault(question, []).append(option)
    return out


def last_keys(ids: list[int], userids: list[str]) -> dict[str, str]:
    """{userid: EventKey of their latest answer}: the button a person clicked last."""
    if not userids:
        return {}
    ranked = (select(CardEvent.from_user, CardEvent.event_key, func.row_number().over(
        partition_by=CardEvent.from_user,
        order_by=(CardEvent.create_time.desc(), CardEvent.id.desc())).label("n"))
        .where(CardEvent.campaign_id.in_(ids), CardEvent.event == REPLY,
               CardEvent.from_user.in_(userids)).subquery())
    return dict(db.session.execute(select(ranked.c.from_user, ranked.c.event_key)
                                   .where(ranked.c.n == 1)).all())


# --- non-responders and history ----------------------------------------------------------------


def non_responders_query(campaign: Campaign, ids: list[int]):
    """Recipients WeCom accepted the card for who have not answered (in the campaign or a reminder)."""
    return select(Delivery.userid).where(Delivery.campaign_id == campaign.id, Delivery.state == "accepted",
                                         ~queries.has_answered(ids, Delivery.userid))


def non_responder_userids(campaign: Campaign, ids: list[int]) -> list[str]:
    return list(db.session.scalars(non_responders_query(campaign, ids).order_by(Delivery.userid)))


def non_responder_count(campaign: Campaign, ids: list[int]) -> int:
    return db.session.scalar(select(func.count()).select_from(
        non_responders_query(campaign, ids).subquery("waiting")))


def non_responders(campaign: Campaign, ids: list[int], page: int, per_page: int = PER_PAGE) -> Page:
    query = non_responders_query(campaign, ids).subquery("waiting")
    total = non_responder_count(campaign, ids)
    rows = db.session.execute(
        select(query.c.userid, DirectoryUser.name, DirectoryUser.departments)
        .outerjoin(DirectoryUser, DirectoryUser.userid == query.c.userid)
        .order_by(query.c.userid).limit(per_page).offset((page - 1) * per_page)).all()
    return Page([row._asdict() for row in rows], page, per_page, total)


def history(ids: list[int], userid: str) -> list[dict]:
    """One person's events in the campaign and its reminders, oldest first; ``current`` names the
    questions whose answer in that event is the one the report counts (the latest)."""
    rows = [row._asdict() for row in db.session.execute(
        select(CardEvent.id, CardEvent.campaign_id, CardEvent.event, CardEvent.event_key,
               CardEvent.selected, CardEvent.create_time)
        .where(CardEvent.campaign_id.in_(ids), CardEvent.from_user == userid)
        .order_by(CardEvent.create_time, CardEvent.id))]
    latest = {key: row["id"] for row in rows if row["event"] == REPLY for key in row["selected"] or {}}
    for row in rows:
        row["current"] = {key for key, event_id in latest.items() if event_id == row["id"]}
    return rows


def person(userid: str) -> DirectoryUser | None:
    return db.session.get(DirectoryUser, userid)
