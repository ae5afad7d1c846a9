"""The shopper's field app: My visits, the phone form, its offline service worker and its JSON API."""

#: Where the shopper's pages (and the service worker's scope) and the phone's JSON API live.
PAGES_PREFIX = "/visits"
API_PREFIX = "/api/v1"
