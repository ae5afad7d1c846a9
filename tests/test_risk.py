"""The risk score of a visit: one fabricated visit per signal, a clean one at 0, the reasons on the
review page in English and Russian, the queue by risk, and links that never leave the reader's scope."""
import io
import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.localtime import days_outside, today_at
from app.models import Photo, Visit
from app.storage import ORIGINAL, photo_key, storage_of
from app.visits import photos as photo_service
from app.visits import risk
from tests.conftest import TEST_DATABASE_URL

LAT, LON = 55.75, 37.61
#: Answers to SAMPLE_CHECKLIST (tests/conftest.py) without the photo.
ANSWERS = {"greeted": "yes", "tone": 4, "wait": 90, "offer": "full", "purchased": "no", "notes": ""}
LONG_COMMENT = "The consultant at the second till was chatting on the phone and ignored the queue for minutes."


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def picture(seed: int) -> Image.Image:
    """Return a busy picture of its own for each seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", (900, 700), tuple(rng.randint(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randint(0, 850), rng.randint(0, 650)
        draw.rectangle((x, y, x + rng.randint(20, 300), y + rng.randint(20, 300)),
                       fill=tuple(rng.randint(0, 255) for _ in range(3)))
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture
def store(make_location, make_region):
    region = make_region("North")
    return make_location(region, name="Store North", latitude=LAT, longitude=LON)


@pytest.fixture
def version(make_checklist_version):
    return make_checklist_version()


@pytest.fixture
def submit(client, login, make_visit, version, store, db):
    """Return a function that fills and submits a visit through the phone's API; it returns the stored visit."""

    def do(*, shopper=None, location=None, photo: bytes | None = None, comment: str | None = None,
           start=(LAT + 0.0002, LON), end=(LAT + 0.0002, LON + 0.0001), minutes: float = 25,
           photo_source="camera", photo_taken: datetime | None = None, photo_position=None,
           window: tuple[date, date] | None = None, started: datetime | None = None) -> Visit:
        fields = {}
        if window:
            fields = {"window_start": window[0], "window_end": window[1]}
        visit = make_visit(location=location or store, checklist_version=version, shopper=shopper, **fields)
        login(visit.shopper)
        started = started or datetime.now(UTC) - timedelta(minutes=minutes + 5)
        assert client.post(f"/api/v1/visits/{visit.id}/start", json={
            "started_at": started.isoformat(), "geolocation": "granted",
            "position": {"latitude": start[0], "longitude": start[1], "accuracy": 15}}).status_code == 200
        answers: dict = dict(ANSWERS)
        if comment:
            answers["tone"] = {"value": 4, "comment": comment}
        if photo is not None:
            form = {"file": (io.BytesIO(photo), "photo.jpg"), "question_id": "shelf", "client_photo_id": "p-1",
                    "source": photo_source, "taken_at": (photo_taken or started + timedelta(minutes=3)).isoformat()}
            if photo_position:
                form.update(latitude=str(photo_position[0]), longitude=str(photo_position[1]))
            response = client.post(f"/api/v1/visits/{visit.id}/photos", data=form,
                                   content_type="multipart/form-data")
            assert response.status_code in (200, 201), response.json
            answers["shelf"] = [response.json["id"]]
        times = {qid: (started + timedelta(minutes=minutes * n / 8)).isoformat() for n, qid in enumerate(answers)}
        response = client.post(f"/api/v1/visits/{visit.id}/submit", json={
            "client_submission_id": str(uuid.uuid4()), "answers": answers, "answer_times": times,
            "started_at": started.isoformat(), "submitted_at": (started + timedelta(minutes=minutes)).isoformat(),
            "geolocation": "granted", "position": {"latitude": end[0], "longitude": end[1], "accuracy": 15}})
        assert response.status_code == 201, response.json
        db.session.expire_all()
        return db.session.get(Visit, visit.id)

    return do


def codes(visit: Visit) -> list[str]:
    return [r["code"] for r in visit.risk_reasons or []]


def test_a_clean_visit_scores_zero(submit):
    visit = submit(photo=jpeg(picture(1)), comment=LONG_COMMENT)
    assert visit.risk_score == 0 and visit.risk_reasons == [] and visit.risk_computed_at is not None


def test_a_start_far_from_the_location_is_a_reason_in_words(submit, client, login, manager):
    visit = submit(start=(LAT + 0.0216, LON))  # 2.4 km north
    assert codes(visit) == ["start_far"] and visit.risk_score == 30
    login(manager)
    assert "Started 2.4 km from the location." in text_of(client.get(f"/review/visits/{visit.id}"))
    client.post("/language/ru")
    assert "Начат в 2,4 км от точки." in text_of(client.get(f"/review/visits/{visit.id}"))


def test_a_submission_far_from_the_location(submit):
    visit = submit(end=(LAT, LON + 0.05))
    assert codes(visit) == ["submit_far"]
    assert visit.risk_reasons[0]["distance_m"] == pytest.approx(3130, abs=20)


def test_a_photo_from_before_the_visit_and_one_far_away(submit, client, login, manager):
    started = datetime.now(UTC) - timedelta(minutes=40)
    early = submit(photo=jpeg(picture(2)), photo_taken=started - timedelta(days=3), photo_source="gallery",
                   started=started)
    assert codes(early) == ["photo_before_start"]
    far = submit(photo=jpeg(picture(3)), photo_position=(LAT + 0.1, LON))
    assert codes(far) == ["photo_far"]
    login(manager)
    page = text_of(client.get(f"/review/visits/{early.id}"))
    assert "Photo 1 (Photo of the shelf) was attached 3 days before the visit started." in page


def test_a_gallery_photo_without_a_capture_time(submit):
    visit = submit(photo=jpeg(picture(4)), photo_source="gallery")
    assert codes(visit) == ["photo_from_gallery"] and visit.risk_score == 5


def test_a_near_identical_photo_in_another_visit_flags_both(submit, make_user, make_location, make_region,
                                                             client, login, manager):
    original = picture(5)
    first = submit(photo=jpeg(original))
    assert first.risk_score == 0
    elsewhere = make_location(make_region("South"), name="Store South", latitude=LAT, longitude=LON)
    copy = jpeg(original.resize((700, 544)), quality=60)  # the same picture, smaller and recompressed
    second = submit(photo=copy, shopper=make_user("shopper"), location=elsewhere)
    reason = second.risk_reasons[0]
    assert reason["code"] == "photo_duplicate" and reason["visit"] == first.id and reason["distance"] <= 3
    assert second.risk_score == 50
    first = risk.db.session.get(Visit, first.id)
    assert [r.get("visit") for r in first.risk_reasons] == [second.id]  # the older visit learns of it too
    # Another picture is not a duplicate.
    assert submit(photo=jpeg(picture(6))).risk_score == 0
    login(manager)
    page = client.get(f"/review/visits/{second.id}").get_data(as_text=True)
    assert f'href="/review/visits/{first.id}"' in page
    words = "is the same picture as" if reason["distance"] == 0 else "is near-identical to"
    assert f"Photo 1 (Photo of the shelf) {words} a photo of visit #{first.id} (Store North, " in text_of(
        client.get(f"/review/visits/{second.id}"))


def test_a_pending_photo_is_scored_when_its_job_gives_it_a_hash(app, submit, db, make_user):
    original = picture(7)
    first = submit(photo=jpeg(original))
    second = submit(shopper=make_user("shopper"))
    # A photo still pending when the visit was submitted: the job decodes it afterwards.
    photo = Photo(visit_id=second.id, question_id="shelf", client_photo_id="late", stored_name="late0001.jpg",
                  status="pending", source="camera")
    db.session.add(photo)
    db.session.commit()
    storage_of(app).put_bytes(photo_key(photo.stored_name, ORIGINAL), jpeg(original, 70))
    assert second.risk_score == 0
    photo_service.run_photo_job(photo.id)  # as the worker does: decode, commit, then the related visits
    assert codes(db.session.get(Visit, second.id)) == ["photo_duplicate"]
    assert codes(db.session.get(Visit, first.id)) == ["photo_duplicate"]


def test_copied_comments_exact_anywhere_and_near_for_the_same_shopper(app, submit, make_user, make_location,
                                                                        make_region, shopper):
    app.config["RISK_REPEAT_VISITS_PER_90_DAYS"] = 10  # five visits of one store, all allowed here
    first = submit(comment=LONG_COMMENT, shopper=shopper)
    far_away = make_location(make_region("East"), latitude=10, longitude=10)
    # Another shopper, another location: only the exact (normalised) text is looked for, network-wide.
    exact = submit(comment=LONG_COMMENT.upper().replace(".", "!"), shopper=make_user("shopper"),
                   location=far_away, start=(10, 10), end=(10, 10))
    assert codes(exact) == ["comment_copied"]
    assert exact.risk_reasons[0]["similarity"] == 100 and exact.risk_reasons[0]["visit"] == first.id
    near = submit(comment=LONG_COMMENT.replace("minutes", "ten minutes"), shopper=shopper)
    assert codes(near) == ["comment_copied"] and 80 <= near.risk_reasons[0]["similarity"] < 100
    # A short comment everyone writes is no copy, and a different one neither.
    assert submit(comment="All good here.", shopper=shopper).risk_score == 0
    assert submit(comment="Nobody greeted me for three minutes; two staff were restocking shelves.",
                  shopper=shopper).risk_score == 0


def test_too_fast_a_visit(submit, client, login, manager):
    visit = submit(minutes=1)
    assert codes(visit) == ["too_fast"] and visit.risk_reasons[0]["seconds"] == 60
    login(manager)
    client.post("/language/ru")
    assert "5 ответов за 60 с: 12 с на ответ." in text_of(client.get(f"/review/visits/{visit.id}"))


def test_a_visit_outside_its_window(submit, store):
    started = datetime.now(UTC) - timedelta(minutes=30)
    today = today_at(store, started)  # the location's calendar: near Moscow's midnight UTC's date is a day behind
    visit = submit(window=(today - timedelta(days=9), today - timedelta(days=4)), started=started)
    assert codes(visit) == ["outside_window"] and visit.risk_reasons[0]["days"] == 4
    assert days_outside(date(2025, 1, 1), date(2025, 1, 3), date(2025, 1, 5)) == -2
    assert days_outside(date(2025, 1, 4), date(2025, 1, 3), date(2025, 1, 5)) == 0


def test_the_same_shopper_at_the_same_location_too_often(app, submit, shopper):
    app.config["RISK_REPEAT_VISITS_PER_90_DAYS"] = 2
    assert submit(shopper=shopper).risk_score == 0
    assert submit(shopper=shopper).risk_score == 0
    third = submit(shopper=shopper)
    assert codes(third) == ["repeat_visits"] and third.risk_reasons[0]["count"] == 3


def test_signals_add_up_once_each_and_cap_at_100(submit):
    started = datetime.now(UTC) - timedelta(minutes=3)
    visit = submit(start=(LAT + 0.05, LON), end=(LAT + 0.05, LON), minutes=1, started=started,
                   photo=jpeg(picture(8)), photo_position=(LAT + 0.05, LON),
                   photo_taken=started - timedelta(hours=5))
    assert set(codes(visit)) == {"start_far", "submit_far", "photo_before_start", "photo_far", "too_fast"}
    assert visit.risk_score == 100


def test_queue_sorts_and_filters_by_risk(submit, client, login, manager, make_location, make_region):
    calm = submit()
    risky = submit(start=(LAT + 0.05, LON), end=(LAT + 0.05, LON))
    medium = submit(start=(LAT + 0.05, LON))
    login(manager)
    oldest = client.get("/review/").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'href="/review/visits/(\d+)"', oldest)]
    assert ids == [calm.id, risky.id, medium.id]
    by_risk = client.get("/review/?sort=risk").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'href="/review/visits/(\d+)"', by_risk)] == [risky.id, medium.id, calm.id]
    high = client.get("/review/?sort=risk&risk=high")
    assert [int(i) for i in re.findall(r'href="/review/visits/(\d+)"', high.get_data(as_text=True))] == [risky.id]
    assert "3 visits wait for review, riskiest first. 1 of them is high risk." in text_of(high)
    assert 'class="badge risk-high"' in by_risk and 'class="badge risk-none"' in by_risk
    assert client.get("/review/?sort=nonsense&risk=%00").status_code in (200, 400)


def test_a_regional_manager_never_sees_another_regions_visit_in_a_reason(submit, make_user, make_location,
                                                                         make_region, store, client, login):
    south = make_region("South")
    south_store = make_location(south, name="Secret South", latitude=LAT, longitude=LON)
    original = picture(9)
    hidden = submit(photo=jpeg(original), location=south_store)
    shown = submit(photo=jpeg(original, 70), shopper=make_user("shopper"))
    north_manager = make_user("manager", regions=[store.region])
    login(north_manager)
    page = client.get(f"/review/visits/{shown.id}").get_data(as_text=True)
    assert f"/review/visits/{hidden.id}" not in page and "Secret South" not in page and f"#{hidden.id}" not in page
    assert "another visit outside your regions" in text_of(client.get(f"/review/visits/{shown.id}"))
    assert client.get(f"/review/visits/{hidden.id}").status_code == 404
    # A manager of both regions gets the link.
    both = make_user("manager", regions=[store.region, south])
    login(both)
    assert f'href="/review/visits/{hidden.id}"' in client.get(f"/review/visits/{shown.id}").get_data(as_text=True)


def test_recompute_command_hashes_old_photos_and_scores_old_visits(app, submit, runner, db, make_user):
    original = picture(10)
    first = submit(photo=jpeg(original))
    second = submit(photo=jpeg(original, 75), shopper=make_user("shopper"))
    # As before the migration: no hashes, no risk.
    for photo in db.session.scalars(select(Photo)):
        risk.set_photo_hash(photo, None)
    for visit in (first, second):
        visit.risk_score = visit.risk_reasons = visit.risk_computed_at = None
    db.session.commit()
    result = runner.invoke(args=["risk", "recompute", "--photos"])
    assert result.exit_code == 0, result.output
    assert "photos hashed: 2" in result.output and "visits: 2" in result.output
    db.session.expire_all()
    assert codes(db.session.get(Visit, second.id)) == ["photo_duplicate"]
    assert db.session.get(Visit, first.id).risk_score == 50


def test_planned_visits_have_no_risk(make_visit, db):
    visit = make_visit()
    assert risk.refresh(visit) is None and visit.risk_score is None


@given(st.integers(0, 2**64 - 1), st.sets(st.integers(0, 63), max_size=3))
def test_a_hash_within_three_bits_shares_a_band(value, flipped):
    other = value
    for bit in flipped:
        other ^= 1 << bit
    assert risk.hamming(value, other) == len(flipped)
    assert any(a == b for a, b in zip(risk.bands(value), risk.bands(risk.signed64(other)), strict=True))
    assert -(2**63) <= risk.signed64(value) < 2**63


def test_settings_refuse_a_distance_the_band_index_cannot_find(app):
    with pytest.raises(ValueError, match="RISK_PHOTO_HAMMING"):
        risk.RiskSettings.of({**app.config, "RISK_PHOTO_HAMMING": 4})


def test_normalised_comments_ignore_case_punctuation_and_yo():
    assert risk.normalise("  Ёлка, ЁЖ!!  ") == "елка еж"
    assert risk.comment_hash("Ёлка, ёж") == risk.comment_hash("елка ЕЖ.")
    assert risk.comment_hash("   ") is None


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks: PostgreSQL (SQLite locks the whole file)")
def test_a_submission_never_locks_the_visit_its_duplicate_photo_points_to(submit, db):
    """At month-end two submissions sharing a photo each locked the other's visit row, and deadlocked."""
    import threading
    import time

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    original = picture(11)
    first = submit(photo=jpeg(original))
    engine = create_engine(make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"))
    locked, seen = threading.Event(), {}

    def another_session_holds_the_first_visit():
        with engine.connect() as holder, engine.connect() as observer:
            holder.execute(text("SELECT id FROM visits WHERE id = :id FOR UPDATE"), {"id": first.id})
            locked.set()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and seen.get("submitted") != 2:
                seen["submitted"] = observer.execute(
                    text("SELECT count(*) FROM visits WHERE submitted_at IS NOT NULL")).scalar()
                observer.rollback()
                time.sleep(0.2)
            holder.rollback()  # the lock goes: the refresh of the related visit, after the commit, goes on

    holding = threading.Thread(target=another_session_holds_the_first_visit)
    holding.start()
    assert locked.wait(10)
    second = submit(photo=jpeg(original, 70))
    holding.join(timeout=30)
    engine.dispose()
    assert seen["submitted"] == 2  # the second submission committed while the first visit was still locked
    db.session.expire_all()
    assert codes(db.session.get(Visit, first.id)) == ["photo_duplicate"]
    assert codes(db.session.get(Visit, second.id)) == ["photo_duplicate"]
