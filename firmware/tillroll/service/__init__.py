"""The service link: a technician's framed request/response channel beside the data link
(docs/service-protocol.md). Status is public; the rest needs the per-device key."""
