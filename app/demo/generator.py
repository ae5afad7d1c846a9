"""Load the demo network: regions, locations, accounts, checklists, six months of visits, actions, surveys.

Deterministic for a given seed and day. Everything is added to the session and committed once by
the caller; scores come from app.scoring.score_visit and are stored through visits.lifecycle.record_submission.
"""
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

from sqlalchemy import func, or_, select

from app.checklists.questions import PhotoQuestion
from app.checklists.sync import latest_versions, sync_checklists
from app.demo import content as c
from app.demo.answers import AnswerMaker, Comments, clamp
from app.demo.photos import DemoPhotos, remove_demo_photos
from app.extensions import db
from app.localtime import to_utc, visit_day
from app.models import (
    ActionStatus,
    Answer,
    AuditLog,
    ChecklistVersion,
    CorrectiveAction,
    Location,
    Photo,
    Region,
    Role,
    SurveyResponse,
    User,
    Visit,
    VisitEvent,
    VisitStatus,
)
from app.scoring import score_visit
from app.storage import Storage
from app.surveydefs.active import active_survey
from app.visits import risk
from app.visits.lifecycle import payload_hash, record_submission, write_draft
from app.visits.risk import REPEAT_DAYS, RiskSettings, set_photo_hash

S = VisitStatus
MONTHS = 6
#: Moscow and Kazan time, in which the shoppers' visit hours are written.
#: Where the people planning and reviewing sit: their working hours are Moscow's.
HEAD_OFFICE = "Europe/Moscow"


class DemoLocation(TypedDict):
    """A demo location and how its audits go: level, trend, monthly wander and weak questions per version."""

    row: Location
    kind: str
    base: float
    trend: float
    person: str
    wander: list[float]
    weak: dict[int, set[str]]


class DemoError(Exception):
    """The demo data cannot be loaded (conflicting data, no checklists)."""


@dataclass
class Summary:
    regions: int = 0
    locations: int = 0
    users: int = 0
    checklists: int = 0
    visits: int = 0
    actions: int = 0
    surveys: int = 0
    photos: int = 0
    #: Checklist files that were rejected or refused, in words for their author.
    problems: list[str] = field(default_factory=list)


def is_loaded() -> bool:
    """Return True when the demo accounts exist."""
    return db.session.scalar(select(User.id).where(User.email == c.MARKER_EMAIL)) is not None


def logins() -> list[tuple[str, str, str]]:
    """Return (role, email, what they see) of the demo accounts."""
    labels = {"admin": "administrator", "manager": "quality manager", "shopper": "mystery shopper"}
    out: list[tuple[str, str, str]] = []
    for _key, local, name, role, code, regions in c.USERS:
        scope = ""
        if role == "manager":
            scope = f", regions {'/'.join(regions)}" if regions else ", whole network"
        elif code:
            scope = f", {code}"
        out.append((labels[role], f"{local}@{c.DOMAIN}", f"{name}{scope}"))
    return out


def conflicts() -> list[str]:
    """Return existing records whose codes or emails the demo data would reuse."""
    emails = [f"{u[1]}@{c.DOMAIN}" for u in c.USERS]
    codes = [u[4] for u in c.USERS if u[4]]
    found = [f"user {e}" for e in db.session.scalars(
        select(User.email).where(or_(User.email.in_(emails), User.shopper_code.in_(codes))))]
    found += [f"region {r}" for r in db.session.scalars(
        select(Region.code).where(Region.code.in_([r[0] for r in c.REGIONS])))]
    found += [f"location {loc}" for loc in db.session.scalars(
        select(Location.code).where(Location.code.in_([loc[0] for loc in c.LOCATIONS])))]
    return found


def wipe(store: Storage) -> None:
    """Delete every row of every table and the demo photo files (not committed)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    remove_demo_photos(store)


class Generator:
    """Builds the demo data in memory, then hands it to the session."""

    def __init__(self, *, today: date, seed: int, store: Storage) -> None:
        self.today = today
        self.start = today - timedelta(days=MONTHS * 30 + 3)
        self.rng = random.Random(seed)
        self.store = store
        self.summary = Summary()
        self.photo_number = 0
        self.audit: list[AuditLog] = []
        self.comments = Comments(self.rng, RiskSettings.current())
        #: (shopper email, location code) -> the days that shopper visited it.
        self.went: defaultdict[tuple[str, str], list[date]] = defaultdict(list)

    # -- helpers ---------------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0, where: Location | None = None) -> datetime:
        """Return a wall-clock time on `day` at the location (the head office in Moscow without one) in UTC."""
        return to_utc(datetime.combine(day, time(hour, minute)), where or HEAD_OFFICE)

    def log(self, user: User, action: str, target: Region | Location | User | Visit | CorrectiveAction,
            when: datetime, **details: object) -> None:
        self.audit.append(AuditLog(user_id=user.id, action=action, target_type=type(target).__name__.lower(),
                                   target_id=target.id, details=details, at=when))

    def quality(self, loc: DemoLocation, day: date) -> float:
        """Return the location's quality on `day`: its level, its trend and a monthly wander."""
        months = (day - self.start).days / 30
        wander = loc["wander"][min(int(months), MONTHS)]
        return clamp(loc["base"] + loc["trend"] * months + wander, 0.2, 0.99)

    # -- the network -------------------------------------------------------------------------------

    def network(self) -> None:
        """Create regions, locations and accounts; the admin 'created' them half a year ago."""
        self.regions = {code: Region(code=code, name=name, timezone=zone) for code, name, zone in c.REGIONS}
        self.locations: list[DemoLocation] = []
        for code, region_code, kind, name, address, lat, lon, base, trend, person in c.LOCATIONS:
            location = Location(code=code, name=name, address=address, region=self.regions[region_code],
                                latitude=lat, longitude=lon, active=True)
            self.locations.append({
                "row": location, "kind": kind, "base": base, "trend": trend, "person": person,
                "wander": [self.rng.gauss(0, 0.025) for _ in range(MONTHS + 1)], "weak": {},
            })
        self.users: dict[str, User] = {}
        #: Email -> the regions a shopper visits.
        self.homes: dict[str, tuple[str, ...]] = {}
        shared = User(password_hash="")
        shared.set_password(c.PASSWORD)  # hashed once: the password is printed for everyone anyway
        for key, local, name, role, shopper_code, regions in c.USERS:
            user = User(email=f"{local}@{c.DOMAIN}", name=name, role=Role(role), shopper_code=shopper_code,
                        created_at=self.at(self.start - timedelta(days=14), 10),
                        password_hash=shared.password_hash)
            user.regions = [self.regions[r] for r in regions] if role == "manager" else []
            self.homes[user.email] = regions
            self.users[key] = user
        db.session.add_all([*self.regions.values(), *(loc["row"] for loc in self.locations), *self.users.values()])
        db.session.flush()
        admin, when = self.users["admin"], self.at(self.start - timedelta(days=14), 11)
        for region in self.regions.values():
            self.log(admin, "region.create", region, when, code=region.code, name=region.name)
        for loc in self.locations:
            self.log(admin, "location.create", loc["row"], when, code=loc["row"].code, name=loc["row"].name,
                     region_id=loc["row"].region_id)
        for user in self.users.values():
            if user is not admin:
                self.log(admin, "user.create", user, when, email=user.email, role=user.role.value,
                         shopper_code=user.shopper_code, regions=[r.code for r in user.regions])
        self.summary.regions, self.summary.locations = len(self.regions), len(self.locations)
        self.summary.users = len(self.users)

    def checklists(self, directory: str) -> None:
        """Store the example checklists and pick the version each kind of location is audited with."""
        report = sync_checklists(directory)
        self.summary.problems = report.problem_lines()
        versions = {v.checklist_id: v for v in latest_versions()}
        if not versions:
            raise DemoError(f"no valid checklist in {directory}; the demo needs at least one")
        self.summary.checklists = len(versions)
        fallback = sorted(versions.values(), key=lambda v: v.checklist_id)
        self.plan: dict[str, list[tuple[ChecklistVersion, int]]] = {}
        for kind, items in c.PLAN.items():
            chosen = [(versions[cid], per_month) for cid, per_month in items if cid in versions]
            self.plan[kind] = chosen or [(fallback[0], 2)]
        self.makers = {v.id: AnswerMaker(v.checklist, self.rng) for v in versions.values()}
        for loc in self.locations:
            for version, _n in self.plan[loc["kind"]]:
                scored = [q.id for q in version.checklist.questions if q.is_scored and q.weight]
                loc["weak"][version.id] = set(self.rng.sample(scored, k=min(2, len(scored))))

    # -- visits -------------------------------------------------------------------------------------

    def reviewer(self, location: Location) -> User:
        return self.users["kgd"] if location.region.code == "KGD" else self.users["quality"]

    def shopper_for(self, location: Location, version: ChecklistVersion, day: date) -> User:
        """Return a shopper for the visit: one who went there least in the last 90 days, as planners rotate them."""
        shoppers = [u for u in self.users.values() if u.role == Role.shopper]
        if version.channel != "phone":
            shoppers = [u for u in shoppers if location.region.code in self.homes[u.email]] or shoppers
        since = day - timedelta(days=REPEAT_DAYS)
        counts = {u.email: sum(1 for d in self.went[(u.email, location.code)] if d > since) for u in shoppers}
        fewest = min(counts.values())
        shopper = self.rng.choice([u for u in shoppers if counts[u.email] == fewest])
        self.went[(shopper.email, location.code)].append(day)
        return shopper

    def photos_for(self, visit: Visit, when: datetime, reuse: bool = False
                   ) -> Callable[[PhotoQuestion, int], list[str]]:
        """Return the callback that stores photos for a photo question of `visit` (`reuse`: the first one is old)."""
        def store(question: PhotoQuestion, count: int) -> list[str]:
            tokens: list[str] = []
            for slot in range(count):
                self.photo_number += 1
                name, width, height, size, phash = self.files.write(question.id, self.photo_number,
                                                                     reuse=reuse and not tokens and not visit.photos)
                token = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
                photo = Photo(
                    token=token, question_id=question.id, slot=slot, client_photo_id=f"demo-{self.photo_number}",
                    stored_name=name, width=width, height=height, byte_size=size, taken_at=when,
                    latitude=visit.start_latitude, longitude=visit.start_longitude,
                    geo_source="device" if visit.start_latitude is not None else None, time_source="device",
                    source="camera",
                )
                set_photo_hash(photo, phash)
                visit.photos.append(photo)
                tokens.append(token)
            self.summary.photos += count
            return tokens
        return store

    def visit(self, loc: DemoLocation, version: ChecklistVersion, day: date, status: VisitStatus,
              trick: str | None = None) -> Visit:
        """Create a filled, scored visit of `loc` on `day` with its history.

        `trick` makes it one the risk score flags: "reused_photo" (an earlier visit's photo again),
        "far_start" (started 2.4 km away) or "too_fast" (every answer within four minutes).
        """
        rng, location = self.rng, loc["row"]
        shopper = self.shopper_for(location, version, day)
        reviewer = self.reviewer(location)
        phone = version.channel == "phone"
        started = self.at(day, rng.randint(10, 18), rng.choice((0, 10, 20, 30, 40, 50)), location)
        minutes = rng.randint(5, 14) if phone else rng.randint(20, 55)
        submitted = started + timedelta(minutes=minutes + rng.randint(3, 90))
        if trick == "too_fast":
            minutes, submitted = 1, started + timedelta(seconds=100)
        window_start = day - timedelta(days=rng.randint(2, 7))
        submission_id = f"demo-{self.summary.visits + 1:05d}"
        visit = Visit(
            location=location, checklist_version=version, shopper=shopper, status=status,
            window_start=window_start, window_end=day + timedelta(days=rng.randint(0, 6)),
            instructions=c.INSTRUCTIONS.get(version.checklist_id, ""), created_by_id=reviewer.id,
            created_at=self.at(window_start - timedelta(days=3), 9), started_at=started,
            submitted_at=submitted, visited_at=started,
            client_submission_id=submission_id,
        )
        if not phone and location.latitude is not None and location.longitude is not None:  # all demo ones have
            if rng.random() < 0.06:
                visit.geolocation = "denied"
            else:
                visit.geolocation = "granted"
                start_latitude = location.latitude + rng.uniform(-0.0004, 0.0004)
                start_longitude = location.longitude + rng.uniform(-0.0004, 0.0004)
                visit.start_latitude, visit.start_longitude = start_latitude, start_longitude
                visit.start_accuracy = round(rng.uniform(5, 35), 1)
                visit.submit_latitude = start_latitude + rng.uniform(-0.0002, 0.0002)
                visit.submit_longitude = start_longitude + rng.uniform(-0.0002, 0.0002)
                visit.submit_accuracy = round(rng.uniform(5, 35), 1)
                if trick == "far_start":  # about 2.4 km north-east of the store
                    visit.start_latitude, visit.start_longitude = location.latitude + 0.017, location.longitude + 0.018
        maker = self.makers[version.id]
        answers = maker.make(self.quality(loc, day), loc["weak"][version.id],
                             self.photos_for(visit, started + timedelta(minutes=minutes // 2), trick == "reused_photo"))
        for item in answers.values():
            if isinstance(item, dict) and item.get("comment"):
                item["comment"] = self.comments.fresh(item["comment"], maker.language, day, shopper.email,
                                                      location.code)
        step = timedelta(minutes=minutes) / max(len(answers), 1)
        times = {qid: (started + step * i + timedelta(seconds=rng.randint(0, 40))).isoformat()
                 for i, qid in enumerate(answers)}
        payload = {"answers": answers, "answer_times": times, "started_at": started.isoformat(),
                   "submitted_at": submitted.isoformat(), "geolocation": visit.geolocation, "position": None}
        visit.events.append(VisitEvent(user_id=reviewer.id, at=visit.created_at, action="assigned"))
        db.session.add(visit)
        record_submission(visit, score_visit(version.checklist, answers), answers, times,
                          client_submission_id=submission_id, digest=payload_hash(payload),
                          submitted_at=submitted, received_at=submitted, user_id=shopper.id)
        reviewed = submitted + timedelta(hours=rng.randint(3, 60))
        if status in (S.approved, S.returned, S.voided):
            visit.reviewed_at, visit.reviewed_by_id = reviewed, reviewer.id
        if status == S.approved:
            visit.events.append(VisitEvent(user_id=reviewer.id, at=reviewed, action="approved"))
        elif status == S.returned:
            visit.review_comment = c.RETURN_COMMENTS[maker.language]
            write_draft(visit, answers, times, client_saved_at=None, saved_at=reviewed)
            visit.events.append(VisitEvent(user_id=reviewer.id, at=reviewed, action="returned",
                                           comment=visit.review_comment))
        elif status == S.voided:
            visit.void_reason = "The shopper was recognised by the staff; the visit does not count."
            visit.events.append(VisitEvent(user_id=reviewer.id, at=reviewed, action="voided",
                                           comment=visit.void_reason))
        self.summary.visits += 1
        return visit

    def history(self) -> list[Visit]:
        """Create six months of submitted visits per location, with a few returned and one voided."""
        planned: list[tuple[date, DemoLocation, ChecklistVersion]] = []
        for loc in self.locations:
            for version, per_month in self.plan[loc["kind"]]:
                count = per_month * MONTHS
                spacing = (self.today - self.start).days / count
                for i in range(count):
                    offset = spacing * (i + self.rng.uniform(0.1, 0.9))
                    day = self.start + timedelta(days=int(offset))
                    if day < self.today:
                        planned.append((day, loc, version))
        planned.sort(key=lambda item: (item[0], item[1]["row"].code))
        recent = [i for i, (day, _l, _v) in enumerate(planned) if 3 <= (self.today - day).days <= 12]
        returned = set(self.rng.sample(recent, k=min(2, len(recent))))
        older = [i for i, (day, _l, _v) in enumerate(planned) if 30 <= (self.today - day).days <= 90]
        voided = set(self.rng.sample(older, k=min(1, len(older))))
        # Three recent visits the risk score flags, waiting in the review queue (one with photos to reuse).
        tricks: dict[int, str] = {}
        with_photos = [i for i in range(len(planned)) if 1 <= (self.today - planned[i][0]).days <= 10
                       and i not in returned and any(q.type == "photo" for q in planned[i][2].checklist.questions)]
        for trick in ("reused_photo", "far_start", "too_fast"):
            free = [i for i in with_photos if i not in tricks]
            if free:
                tricks[self.rng.choice(free)] = trick
        visits: list[Visit] = []
        for i, (day, loc, version) in enumerate(planned):
            age = (self.today - day).days
            if i in returned:
                status = S.returned
            elif i in voided:
                status = S.voided
            elif i in tricks or (age <= 14 and self.rng.random() < 0.7):
                status = S.submitted
            else:
                status = S.approved
            visits.append(self.visit(loc, version, day, status, tricks.get(i)))
        # One shopper went two days before the window opened, in Vladivostok: the review page warns.
        early = next((v for v in reversed(visits) if v.status == S.submitted and v.location.region.code == "VVO"),
                     None)
        early_day = visit_day(early) if early is not None else None
        if early is not None and early_day is not None:
            early.window_start, early.window_end = early_day + timedelta(days=2), early_day + timedelta(days=8)
            risk.refresh(early, related=False)  # its risk now says so too
        return visits

    def upcoming(self) -> list[Visit]:
        """Plan visits for every shopper: upcoming ones, a few overdue, one started on the phone."""
        visits: list[Visit] = []
        shoppers = [u for u in self.users.values() if u.role == Role.shopper]
        for n, shopper in enumerate(shoppers):
            home = [loc for loc in self.locations if loc["row"].region.code in self.homes[shopper.email]]
            specs = [(self.rng.randint(-1, 3), self.rng.randint(7, 14)) for _ in range(2)]
            if n % 2 == 0:
                specs.append((-self.rng.randint(12, 16), -self.rng.randint(1, 5)))  # overdue
            for start_in, end_in in specs:
                loc = self.rng.choice(home)
                version = self.plan[loc["kind"]][0][0]
                reviewer = self.reviewer(loc["row"])
                window_start = self.today + timedelta(days=start_in)
                visit = Visit(
                    location=loc["row"], checklist_version=version, shopper=shopper, status=S.planned,
                    window_start=window_start, window_end=self.today + timedelta(days=end_in),
                    instructions=c.INSTRUCTIONS.get(version.checklist_id, ""), created_by_id=reviewer.id,
                    created_at=self.at(min(window_start, self.today) - timedelta(days=3), 9),
                )
                visit.events.append(VisitEvent(user_id=reviewer.id, at=visit.created_at, action="assigned"))
                visits.append(visit)
        # The first shopper is in the middle of a visit: part of the answers saved as a draft.
        started = visits[0]
        maker = self.makers[started.checklist_version.id]
        first_section = {q.id for q in started.checklist.sections[0].questions}
        answers = maker.make(0.85, set(), lambda q, n: [])
        started.status = S.in_progress
        started.started_at = datetime.now(UTC) - timedelta(minutes=12)
        write_draft(started, {k: v for k, v in answers.items() if k in first_section and v != []}, {},
                    client_saved_at=None, saved_at=started.started_at + timedelta(minutes=8))
        return visits

    def actions(self, visits: list[Visit]) -> list[CorrectiveAction]:
        """Open corrective actions for the worst failures of reviewed visits in the last four months."""
        recent = {v.id: v for v in visits
                  if v.status == S.approved and v.visited_at and (self.today - v.visited_at.date()).days <= 120}
        failed: defaultdict[int, list[Answer]] = defaultdict(list)
        for answer in db.session.scalars(select(Answer).where(
                Answer.visit_id.in_(recent), Answer.fraction < 1, Answer.max_points >= 1)):
            failed[answer.visit_id].append(answer)
        candidates: list[tuple[Visit, Answer]] = []
        for visit_id, answers in sorted(failed.items()):
            # The query kept only answers with a fraction (below 1).
            worst = max(answers, key=lambda a: (a.critical_failed, a.max_points * (1 - (a.fraction or 0)),
                                                a.question_id))
            candidates.append((recent[visit_id], worst))
        candidates.sort(key=lambda item: (not item[1].critical_failed, item[0].score or 0))
        chosen = candidates[:18]
        actions: list[CorrectiveAction] = []
        for visit, answer in chosen:
            if visit.reviewed_at is None:  # every approved visit was reviewed
                continue
            loc = next(item for item in self.locations if item["row"] is visit.location)
            language = self.makers[visit.checklist_version.id].language
            texts = c.ACTIONS[language]
            created = visit.reviewed_at + timedelta(hours=2)
            due = created.date() + timedelta(days=14)
            action = CorrectiveAction(
                visit=visit, location=visit.location, question_id=answer.question_id,
                description=texts.get(answer.question_id, texts["*"]), owner_name=loc["person"],
                owner_email=f"{visit.location.code.lower()}@{c.DOMAIN}", due_date=due,
                created_by_id=visit.reviewed_by_id, created_at=created, status=ActionStatus.open,
            )
            overdue_days = (self.today - due).days
            if overdue_days > 7 or (overdue_days > 0 and self.rng.random() < 0.5):
                action.status = ActionStatus.done
                done_at = created + timedelta(days=self.rng.randint(3, 13))
                action.done_at = done_at
                if overdue_days > 14 and self.rng.random() < 0.7:
                    action.status = ActionStatus.verified
                    action.verified_at = done_at + timedelta(days=self.rng.randint(2, 10))
            actions.append(action)
        self.summary.actions = len(actions)
        return actions

    def surveys(self) -> list[SurveyResponse]:
        """Create customer survey answers per location, following the location's quality."""
        survey = active_survey()
        survey_id, version = (survey.id, survey.version) if survey else ("default", None)
        purposes = ["buy", "buy", "buy", "advice", "return", "other"]
        rng, days = self.rng, (self.today - self.start).days
        responses: list[SurveyResponse] = []
        for loc in self.locations:
            for _ in range(rng.randint(25, 55)):
                day = self.start + timedelta(days=rng.randint(0, days - 1))
                q = self.quality(loc, day)
                nps = int(clamp(round(rng.gauss(10 * q + 0.4, 2.0)), 0, 10))
                csat = int(clamp(round(rng.gauss(1 + 4 * q + 0.3, 0.9)), 1, 5)) if rng.random() < 0.9 else None
                ces = int(clamp(round(rng.gauss(1 + 6 * q, 1.2)), 1, 7)) if rng.random() < 0.85 else None
                language = "ru" if rng.random() < 0.8 else "en"
                comment = None
                if rng.random() < 0.3:
                    comment = rng.choice(c.SURVEY_COMMENTS[language]["good" if nps >= 8 else "bad"])
                responses.append(SurveyResponse(
                    location=loc["row"], survey_id=survey_id, survey_version=version,
                    submitted_at=self.at(day, rng.randint(10, 20), rng.randint(0, 59), loc["row"]), nps=nps, csat=csat,
                    ces=ces, comment=comment, extra={"visit_purpose": rng.choice(purposes)}, language=language,
                    source="web", fill_seconds=rng.randint(9, 120),
                ))
        # Two repeated submissions, kept but flagged as the public form would flag them.
        for original in rng.sample(responses, k=2):
            responses.append(SurveyResponse(
                location=original.location, survey_id=survey_id, survey_version=version,
                submitted_at=original.submitted_at + timedelta(minutes=2), nps=original.nps, csat=original.csat,
                ces=original.ces, comment=original.comment, extra=original.extra, language=original.language,
                source="web", flagged=True, flag_reason="duplicate", fill_seconds=rng.randint(2, 6),
            ))
        self.summary.surveys = len(responses)
        return responses

    # -- everything ---------------------------------------------------------------------------------

    def run(self, checklists_dir: str) -> Summary:
        """Add the whole demo to the session (the caller commits)."""
        self.files = DemoPhotos(self.store, self.rng)
        self.network()
        self.checklists(checklists_dir)
        history = self.history()
        upcoming = self.upcoming()
        db.session.add_all(history + upcoming)
        db.session.flush()
        decisions = {S.approved: "visit.approve", S.returned: "visit.return", S.voided: "visit.void"}
        for visit in history + upcoming:
            self.log(db.session.get_one(User, visit.created_by_id), "visit.assign", visit, visit.created_at,
                     location=visit.location.code, checklist=visit.checklist_version.checklist_id,
                     version=visit.checklist_version.version, shopper=visit.shopper.email)
            if visit.status in decisions and visit.reviewed_at is not None:  # every decided visit was reviewed
                details = {"comment": visit.review_comment or visit.void_reason} if visit.status != S.approved else {}
                self.log(db.session.get_one(User, visit.reviewed_by_id), decisions[visit.status], visit,
                         visit.reviewed_at, **details)
        actions = self.actions(history)
        db.session.add_all(actions)
        db.session.flush()
        for action in actions:
            self.log(db.session.get_one(User, action.created_by_id), "action.create", action, action.created_at,
                     visit_id=action.visit_id, question_id=action.question_id, due=action.due_date.isoformat())
        db.session.add_all(self.surveys())
        db.session.add_all(self.audit)
        db.session.flush()
        return self.summary


def load(*, today: date | None = None, seed: int = 20240601, checklists_dir: str, store: Storage) -> Summary:
    """Add the demo data to the session; :raise DemoError: when codes or emails are already taken."""
    found = conflicts()
    if found:
        raise DemoError("the database already holds " + ", ".join(found[:5])
                        + ("…" if len(found) > 5 else "") + "; use --reset to replace everything with the demo")
    return Generator(today=today or date.today(), seed=seed, store=store).run(checklists_dir)


def count_visits_by_status() -> dict[str, int]:
    """Return how many visits there are per status."""
    rows = db.session.execute(select(Visit.status, func.count()).group_by(Visit.status))
    return {VisitStatus(status).value: n for status, n in rows}
