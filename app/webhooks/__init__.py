"""Webhooks: events told to the systems an admin registered, signed, after the commit, retried on RQ.

`events` names the events and builds their bodies (ids, codes, scores, links; never a shopper's name or address);
`delivery` keeps each delivery until the transaction that caused it commits (a rolled-back change sends nothing),
then hands it to RQ (`REDIS_URL`: the webhook queue, retried with back-off) or to a thread (one attempt), signs it
with the endpoint's secret and logs every attempt as a WebhookDelivery; `urls` says which addresses are accepted.
Described for the receivers in docs/webhooks.md.
"""
