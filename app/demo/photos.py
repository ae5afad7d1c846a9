"""Stand-in photo evidence for demo visits: small generated JPEGs, a picture of its own per photo.

Every photo is drawn afresh (a reused picture is what the risk score flags); `reuse` writes an
earlier one again, slightly resized and recompressed, as a shopper passing an old photo off would.
"""
import io
import random

from PIL import Image, ImageDraw

from app.storage import PHOTOS, Storage, photo_key
from app.visits.images import THUMB_SIDE, perceptual_hash

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
    """Draw an information stand with tariff sheets, seen from where the shopper stood."""
    image = Image.new("RGB", SIZE, tuple(rng.randint(170, 235) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    x0, y0 = rng.randint(10, 200), rng.randint(10, 120)
    x1, y1 = rng.randint(x0 + 380, 790), rng.randint(y0 + 360, 590)
    draw.rectangle((x0, y0, x1, y1), fill=(rng.randint(10, 60), rng.randint(40, 110), rng.randint(110, 180)))
    cols, rows = rng.randint(2, 4), rng.randint(1, 3)
    width, height = (x1 - x0 - 30) // cols - 20, (y1 - y0 - 30) // rows - 20
    for col in range(cols):
        for row in range(rows):
            left, top = x0 + 25 + col * (width + 20), y0 + 25 + row * (height + 20)
            draw.rectangle((left, top, left + width, top + height), fill=(250, 250, 250))
            for line in range(max(1, height // 28)):
                y = top + 20 + line * 24
                draw.line((left + 10, y, left + 10 + rng.randint(width // 3, max(width // 3 + 1, width - 20)), y),
                          fill=(90, 90, 90), width=4)
    return image


def _jpeg(image: Image.Image, side: int | None = None) -> bytes:
    if side:
        image = image.copy()
        image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


class DemoPhotos:
    """Pictures written to the storage as the field app stores uploads."""

    def __init__(self, store: Storage, rng: random.Random):
        self.store = store
        self.rng = rng
        #: The pictures drawn so far, for a visit that reuses an old one.
        self.drawn: dict[str, list[Image.Image]] = {"shelf": [], "stand": []}

    def write(self, question_id: str, number: int, *, reuse: bool = False) -> tuple[str, int, int, int, int]:
        """Write one photo for `question_id`; return (stored name, width, height, bytes, perceptual hash)."""
        kind = "stand" if "stand" in question_id else "shelf"
        if reuse and self.drawn[kind]:
            old = self.drawn[kind][len(self.drawn[kind]) // 2]  # from weeks ago
            image = old.resize((SIZE[0] - 40, SIZE[1] - 30))  # the same picture, a little smaller
        else:
            image = (_stand if kind == "stand" else _shelf)(self.rng)
            self.drawn[kind].append(image)
        jpeg, thumb = _jpeg(image), _jpeg(image, THUMB_SIDE)
        stored_name = f"{PREFIX}{number:06d}.jpg"
        for data, size in ((jpeg, None), (thumb, "thumb")):
            self.store.put_bytes(photo_key(stored_name, size), data)
        return stored_name, image.width, image.height, len(jpeg), perceptual_hash(image)


def remove_demo_photos(store: Storage) -> int:
    """Delete the demo photo files; return how many were removed."""
    removed = 0
    for found in list(store.list(f"{PHOTOS}/{PREFIX[:2]}/{PREFIX}")):
        if found.key.endswith(".jpg"):
            store.delete(found.key)
            removed += 1
    return removed
