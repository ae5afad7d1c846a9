"""Where stored files live: photos and their thumbnails below UPLOAD_DIR, written atomically."""
import os
from pathlib import Path

#: The uploaded file, kept only until its photo is decoded: never served (it still has its metadata).
ORIGINAL = "original"


def photo_path(upload_dir: str, stored_name: str, size: str | None = None) -> Path:
    """Return the file of a stored photo, of its thumbnail (size "thumb"), or of the upload (ORIGINAL)."""
    if size == "thumb":
        name = stored_name.replace(".jpg", "_thumb.jpg")
    elif size == ORIGINAL:
        name = stored_name.replace(".jpg", ".upload")
    else:
        name = stored_name
    return Path(upload_dir) / name[:2] / name


def write_file(path: Path, data: bytes) -> None:
    """Write a file so that readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part")
    temp.write_bytes(data)
    os.replace(temp, path)


def remove_photo_files(upload_dir: str, stored_name: str) -> None:
    """Delete a photo's files (missing files are fine)."""
    for size in (None, "thumb", ORIGINAL):
        photo_path(upload_dir, stored_name, size).unlink(missing_ok=True)
