"""Shared helpers of the PDF report tests: scored visits with photos, and reading PDFs back."""
import io
import random
import subprocess
from datetime import UTC, date, datetime, time
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from app.checklists.loader import load_checklist_file
from app.demo.answers import AnswerMaker
from app.models import ChecklistVersion, Photo
from app.storage import Storage, photo_key
from tests.factories_scored import make_scored_visit

REPO_ROOT = Path(__file__).resolve().parent.parent


def stored_version(db, path: Path) -> ChecklistVersion:
    """Store a checklist file of the repository as a version."""
    loaded = load_checklist_file(path)
    checklist = loaded.checklist
    version = ChecklistVersion(
        checklist_id=checklist.id, version=checklist.version, title=checklist.title, channel=checklist.channel,
        definition=checklist.model_dump(mode="json"), source_text=loaded.source_text,
        source_hash=loaded.source_hash, source_path=str(path),
    )
    db.session.add(version)
    db.session.commit()
    return version


def add_photo(db, visit, question_id: str, store: Storage, number: int, size=(2400, 1800)) -> Photo:
    """Write a large JPEG as the field app stores uploads and attach it to the visit."""
    rng = random.Random(number)
    image = Image.new("RGB", size, (rng.randint(40, 200), rng.randint(40, 200), rng.randint(40, 200)))
    for i in range(0, size[0], 120):
        image.paste((255, 255, 255), (i, 0, i + 20, size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    stored_name = f"{number:02d}{rng.getrandbits(64):016x}.jpg"
    store.put_bytes(photo_key(stored_name), out.getvalue())
    photo = Photo(visit=visit, question_id=question_id, slot=number, client_photo_id=f"c{number}",
                  stored_name=stored_name, width=size[0], height=size[1], byte_size=len(out.getvalue()))
    db.session.add(photo)
    db.session.commit()
    return photo


def demo_answers(checklist, quality: float, seed: int) -> dict:
    """Return believable answers for any checklist; photo answers name placeholder ids (add_photo stores files)."""
    return AnswerMaker(checklist, random.Random(seed)).make(
        quality, set(), lambda question, count: [f"{question.id}-{i}" for i in range(count)])


def visit_on(db, location, version, shopper, answers, day: date, **fields):
    """Return a scored, approved visit on `day` at 10:30 UTC."""
    return make_scored_visit(db, location, version, shopper, answers,
                             datetime.combine(day, time(10, 30), tzinfo=UTC), **fields)


def pdf_text(pdf: bytes) -> str:
    """Return the text of a PDF as pdftotext lays it out."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode()


def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def pdf_images(pdf: bytes) -> list[tuple[int, int]]:
    """Return (width, height) of every raster image embedded in the PDF."""
    images = {}
    for page in pdf_reader(pdf).pages:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        for ref in xobjects.values():  # pages may share one resource dictionary: count each image once
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                images[getattr(ref, "idnum", id(obj))] = (int(obj["/Width"]), int(obj["/Height"]))
    return list(images.values())


def big_checklist(questions: int = 60, per_section: int = 10) -> str:
    """Return YAML of a checklist with `questions` yes/no questions and a 10-photo evidence question."""
    lines = ["id: big-audit", "version: 1", "title: Full store audit", "sections:"]
    for start in range(0, questions, per_section):
        lines += [f"  - id: s{start // per_section}", f"    title: Area {start // per_section + 1} of the store",
                  "    questions:"]
        for i in range(start, min(start + per_section, questions)):
            lines += [f"      - id: q{i}", f"        text: \"Check point {i + 1}: is the standard met in full?\"",
                      "        type: yes_no", f"        weight: {1 + i % 3}"]
    lines += ["      - id: evidence", "        text: Photos of the sales floor", "        type: photo",
              "        max_photos: 10"]
    return "\n".join(lines) + "\n"
