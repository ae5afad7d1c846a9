// Photos on the phone: shrink to 1600 px JPEG before storing/uploading, where each was taken, thumbnails.

export const MAX_SIDE = 1600;
const QUALITY = 0.85;

async function decode(file) {
  if (self.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch (e) { /* fall back to <img>, which some browsers decode more formats with */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Return the photo as a JPEG blob whose longest side is at most MAX_SIDE; throw if unreadable. */
export async function downscale(file) {
  const image = await decode(file);
  const w = image.naturalWidth || image.width;
  const h = image.naturalHeight || image.height;
  if (!w || !h) throw new Error('empty image');
  const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
  const cw = Math.max(1, Math.round(w * scale));
  const ch = Math.max(1, Math.round(h * scale));
  let blob;
  if (self.OffscreenCanvas) {
    const canvas = new OffscreenCanvas(cw, ch);
    canvas.getContext('2d').drawImage(image, 0, 0, cw, ch);
    blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
  } else {
    const canvas = document.createElement('canvas');
    canvas.width = cw;
    canvas.height = ch;
    canvas.getContext('2d').drawImage(image, 0, 0, cw, ch);
    blob = await new Promise((resolve, reject) => canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('encode failed'))), 'image/jpeg', QUALITY,
    ));
  }
  if (image.close) image.close();
  return blob;
}

/** The largest EXIF segment sent with a photo (a JPEG APP1 segment holds at most 64 KB). */
const MAX_EXIF_BYTES = 65533;
/** A file younger than this when attached was just taken by the camera; an older one comes from the gallery. */
export const CAMERA_FRESH_MS = 120000;

/**
 * Return the original file's EXIF segment ("Exif\0\0" + TIFF data) as a Blob, or null: the server
 * reads the capture time, its offset and the GPS position from it, since the downscaled copy has none.
 */
export async function exifSegment(file) {
  const head = new DataView(await file.slice(0, 256 * 1024).arrayBuffer());
  if (head.byteLength < 4 || head.getUint16(0) !== 0xFFD8) return null; // not a JPEG
  let at = 2;
  while (at + 4 <= head.byteLength && head.getUint8(at) === 0xFF) {
    const marker = head.getUint8(at + 1);
    const length = head.getUint16(at + 2);
    if (marker === 0xDA || length < 2) break; // the image data starts: no EXIF after this
    const start = at + 4;
    if (marker === 0xE1 && length - 2 > 6 && start + 6 <= head.byteLength
        && head.getUint32(start) === 0x45786966 && head.getUint16(start + 4) === 0) { // "Exif\0\0"
      return length - 2 <= MAX_EXIF_BYTES ? file.slice(start, start + length - 2) : null;
    }
    at += 2 + length;
  }
  return null;
}

/** "camera" when the file was made moments ago, else "gallery" (an older picture chosen from the phone). */
export function photoSource(file, nowMs = Date.now()) {
  return file.lastModified && nowMs - file.lastModified <= CAMERA_FRESH_MS ? 'camera' : 'gallery';
}

/** How long an upload waits for the photo's own position before it goes with the fallback. */
export const LOCATE_WAIT_MS = 6000;

async function permissionGranted() {
  // Never prompt in the middle of a visit: ask only if the browser still has the permission.
  try {
    if (navigator.permissions) return (await navigator.permissions.query({ name: 'geolocation' })).state === 'granted';
  } catch (e) { /* Permissions API without "geolocation": rely on the answer given at the start */ }
  return true;
}

/**
 * Resolve the phone's position when a photo is taken, as {latitude, longitude}, else `fallback`
 * (the start position, or null). Asks only when the shopper allowed it at the start (`allowed`).
 */
export async function photoPosition(allowed, fallback = null, { maximumAge = 30000, timeout = 5000 } = {}) {
  if (!allowed || !navigator.geolocation || !(await permissionGranted())) return fallback;
  return new Promise((resolve) => {
    const guard = setTimeout(() => resolve(fallback), timeout + 1000);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        clearTimeout(guard);
        resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude });
      },
      () => {
        clearTimeout(guard);
        resolve(fallback);
      },
      { enableHighAccuracy: true, maximumAge, timeout },
    );
  });
}

const objectUrls = new Map();

function srcOf(photo) {
  if (photo.blob) {
    if (!objectUrls.has(photo.client_photo_id)) objectUrls.set(photo.client_photo_id, URL.createObjectURL(photo.blob));
    return objectUrls.get(photo.client_photo_id);
  }
  return photo.thumb_url || photo.url || '';
}

/** Show the thumbnails of a photo question; `onDelete(photo)` is called by each delete button. */
export function renderPhotos(q, photos, text, onDelete) {
  const list = q.el.querySelector('.ph-list');
  const shown = photos.filter((p) => p.state !== 'deleting' && p.state !== 'deleted');
  list.replaceChildren(...shown.map((photo, i) => {
    const li = document.createElement('li');
    li.className = `ph-item ph-${photo.state}`;
    li.dataset.clientPhotoId = photo.client_photo_id;
    const img = document.createElement('img');
    img.src = srcOf(photo);
    img.alt = `${q.el.querySelector('.q-text').textContent} ${i + 1}`;
    img.width = 96;
    img.height = 96;
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'ph-del';
    del.setAttribute('aria-label', text.delete_photo);
    del.textContent = '×';
    del.addEventListener('click', () => onDelete(photo));
    li.append(img, del);
    if (photo.state === 'pending' || photo.state === 'failed') {
      const badge = document.createElement('span');
      badge.className = 'ph-badge';
      badge.textContent = photo.state === 'failed' ? (photo.error || text.photo_failed) : text.photo_waiting;
      li.append(badge);
    }
    return li;
  }));
  const count = shown.filter((p) => p.state !== 'failed').length;
  q.el.querySelector('.ph-count').textContent = text.photo_count.replace('{n}', count).replace('{max}', q.maxPhotos);
  q.el.querySelector('.ph-add').classList.toggle('is-full', count >= q.maxPhotos);
  return count;
}

export function forgetPhotoUrl(clientPhotoId) {
  const url = objectUrls.get(clientPhotoId);
  if (url) URL.revokeObjectURL(url);
  objectUrls.delete(clientPhotoId);
}
