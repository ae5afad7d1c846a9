// IndexedDB storage of the phone form: drafts, photos (as blobs) and the submission outbox.
// Everything the shopper enters lands here first, so a closed tab, a locked phone or a dead
// battery loses nothing; sync.js then sends it to the server.

const DB_NAME = 'fieldaudit-form';
const DB_VERSION = 1;
let opening = null;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        // drafts: one per visit (answers, comments, answer times, stopwatches, start record).
        db.createObjectStore('drafts', { keyPath: 'visit_id' });
        // photos: one per photo, keyed by the id made on the phone (the upload is resumable by it).
        const photos = db.createObjectStore('photos', { keyPath: 'client_photo_id' });
        photos.createIndex('visit_id', 'visit_id');
        // outbox: the pending or sent submission of a visit, with its client_submission_id.
        db.createObjectStore('outbox', { keyPath: 'visit_id' });
      };
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      req.onerror = () => { opening = null; reject(req.error); };
      req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
    });
  }
  return opening;
}

async function run(storeName, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    let result;
    Promise.resolve(fn(tx.objectStore(storeName))).then((r) => { result = r; }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

export const getDraft = (visitId) => run('drafts', 'readonly', (s) => request(s.get(visitId)));
export const putDraft = (draft) => run('drafts', 'readwrite', (s) => request(s.put(draft)));
export const getOutbox = (visitId) => run('outbox', 'readonly', (s) => request(s.get(visitId)));
export const putOutbox = (item) => run('outbox', 'readwrite', (s) => request(s.put(item)));
export const putPhoto = (photo) => run('photos', 'readwrite', (s) => request(s.put(photo)));
export const deletePhoto = (clientPhotoId) => run('photos', 'readwrite', (s) => request(s.delete(clientPhotoId)));

export function getPhotos(visitId) {
  return run('photos', 'readonly', (s) => request(s.index('visit_id').getAll(visitId)))
    .then((list) => list.sort((a, b) => (a.created_at < b.created_at ? -1 : 1)));
}

/** Forget a visit's draft and photos once the server has its submission (the outbox keeps the receipt). */
export async function clearVisit(visitId) {
  await run('drafts', 'readwrite', (s) => request(s.delete(visitId)));
  const photos = await getPhotos(visitId);
  await run('photos', 'readwrite', (s) => Promise.all(photos.map((p) => request(s.delete(p.client_photo_id)))));
}

/** Return a random UUID, also where crypto.randomUUID is missing (older phones). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
