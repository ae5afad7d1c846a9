"""Stand-in photo evidence for demo visits: small generated JPEGs, a few shared pictures written per photo."""
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

from app.storage import photo_path
from app.visits.images import THUMB_SIDE

#: Stored names of demo photos start with this, so that `demo --reset` removes only them.
PREFIX = "demo"
SIZE = (800, 600)


def _shelf(rng: random.Random) -> Image.Image:
    """Draw a store shelf with boxes of products."""
    image = Image.new("RGB", SIZE, (236, 232, 224))
    draw = ImageDraw.Draw(image)
    for top in range(60, 560, 125):
        draw.rectangle((30, top + 100, 770, top + 112), fill=(120, 96, 70))
        x = 40
        while x < 740:
            width = rng.randint(40, 90)
            height = rng.randint(50, 95)
            colour = tuple(rng.randint(40, 220) for _ in range(3))
            draw.rectangle((x, top + 100 - height, min(x + width, 760), top + 99), fill=colour, outline=(40, 40, 40))
            if rng.random() < 0.7:
                draw.rectangle((x + 4, top + 114, x + 34, top + 122), fill=(255, 255, 255))
            x += width + rng.randint(2, 10)
    return image


def _stand(rng: random.Random) -> Image.Image:
    """Draw an information stand with tariff sheets."""
    image = Image.new("RGB", SIZE, (210, 215, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 40, 720, 560), fill=(20, 70, 140))
    for col in range(3):
        for row in range(2):
            left, top = 110 + col * 205, 70 + row * 245
            draw.rectangle((left, top, left + 180, top + 220), fill=(250, 250, 250))
            for line in range(8):
                y = top + 20 + line * 24
                draw.line((left + 15, y, left + 15 + rng.randint(80, 150), y), fill=(90, 90, 90), width=4)
    return image


def _jpeg(image: Image.Image, side: int | None = None) -> bytes:
    if side:
        image = image.copy()
        image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


class DemoPhotos:
    """A handful of pictures, written under UPLOAD_DIR as the field app stores uploads."""

    def __init__(self, upload_dir: str, rng: random.Random, variants: int = 4):
        self.upload_dir = upload_dir
        self.pictures = {
            kind: [(_jpeg(img), _jpeg(img, THUMB_SIDE)) for img in (draw(rng) for _ in range(variants))]
            for kind, draw in (("shelf", _shelf), ("stand", _stand))
        }

    def write(self, question_id: str, number: int, rng: random.Random) -> tuple[str, int, int, int]:
        """Write one photo for `question_id`; return (stored name, width, height, bytes)."""
        kind = "stand" if "stand" in question_id else "shelf"
        jpeg, thumb = rng.choice(self.pictures[kind])
        stored_name = f"{PREFIX}{number:06d}.jpg"
        for data, size in ((jpeg, None), (thumb, "thumb")):
            path = photo_path(self.upload_dir, stored_name, size)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return stored_name, SIZE[0], SIZE[1], len(jpeg)


def remove_demo_photos(upload_dir: str) -> int:
    """Delete the demo photo files; return how many were removed."""
    folder = Path(upload_dir) / PREFIX[:2]
    removed = 0
    if folder.is_dir():
        for path in folder.glob(f"{PREFIX}*.jpg"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
