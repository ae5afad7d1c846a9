"""A gallery photo of yesterday attached on the phone, offline: the server learns when and where it was
really taken (from the original's EXIF, read before the downscale) and serves a copy without metadata."""
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from tests.browser.fill_helpers import EVERY_TYPE_CHECKLIST, allow_position, bar, open_form, photos_of, sign_in
from tests.test_photo_pipeline import SECRET, assert_clean
from tests.test_photo_provenance import camera_exif

SHOP = (55.7558, 37.6173)


@pytest.fixture
def visit(make_visit, make_checklist_version, make_location, make_region, shopper):
    return make_visit(shopper=shopper, checklist_version=make_checklist_version(EVERY_TYPE_CHECKLIST),
                      location=make_location(make_region(), latitude=SHOP[0], longitude=SHOP[1]))


def gallery_photo(path, taken: datetime):
    """A 3000 px camera JPEG with EXIF (time with offset, GPS 33 m from the shop), a comment, and yesterday's mtime."""
    local = (taken + timedelta(hours=3)).strftime("%Y:%m:%d %H:%M:%S")
    image = Image.effect_noise((3000, 2000), 40).convert("RGB")
    image.save(path, "JPEG", quality=85, exif=camera_exif(local, "+03:00", (SHOP[0] + 0.0003, SHOP[1])),
               comment=SECRET)
    stamp = taken.timestamp()
    os.utime(path, (stamp, stamp))
    return str(path)


def test_a_gallery_photo_keeps_its_capture_time_place_and_source(page, context, live_server, shopper, visit,
                                                                tmp_path):
    allow_position(context, live_server)
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    bar(page, "start").click()
    page.get_by_text("Position recorded").wait_for()

    context.set_offline(True)
    yesterday = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    page.locator("#q-shelf .ph-input").set_input_files(gallery_photo(tmp_path / "IMG_0412.jpg", yesterday))
    page.locator("#q-shelf .ph-item .ph-badge", has_text="Waiting to upload").wait_for(state="attached")
    assert photos_of(visit.id) == []

    context.set_offline(False)
    deadline = time.monotonic() + 30
    while not photos_of(visit.id) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    (photo,) = photos_of(visit.id)
    assert photo.source == "gallery"
    assert (photo.time_source, photo.taken_offset) == ("exif", "+03:00")
    assert abs(photo.taken_at - yesterday) < timedelta(seconds=1)
    assert photo.geo_source == "exif" and photo.latitude == pytest.approx(SHOP[0] + 0.0003, abs=1e-6)
    assert max(photo.width, photo.height) == 1600  # downscaled on the phone, all the same

    served = page.evaluate("""async (url) => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return Array.from(bytes);
    }""", f"/visits/photos/{photo.token}")
    assert_clean(bytes(served))
