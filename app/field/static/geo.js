// Where the phone is at the start and at the submission of a visit (proof of the visit).

import { $ } from './state.js';
import { T, fmt } from './text.js';

export function locate(timeout = 15000) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve({ geolocation: 'unavailable', position: null });
      return;
    }
    // Chrome does not count the time the permission prompt is open; a shopper may never answer it.
    const guard = setTimeout(() => resolve({ geolocation: 'unavailable', position: null }), timeout * 2);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        clearTimeout(guard);
        resolve({
          geolocation: 'granted',
          position: { latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: Math.round(p.coords.accuracy) },
        });
      },
      (err) => {
        clearTimeout(guard);
        resolve({ geolocation: err.code === 1 ? 'denied' : 'unavailable', position: null });
      },
      { enableHighAccuracy: true, timeout, maximumAge: 60000 },
    );
  });
}

export function showGeo(geo) {
  const box = $('.geo-status');
  box.hidden = false;
  if (!geo) box.textContent = T.geo_asking;
  else if (geo.geolocation === 'granted') box.textContent = fmt(T.geo_granted, { m: geo.position.accuracy });
  else box.textContent = T[geo.geolocation === 'denied' ? 'geo_denied' : 'geo_unavailable'];
  box.className = `geo-status ${geo && geo.geolocation !== 'granted' ? 'notice notice-warn' : 'muted'}`;
}
