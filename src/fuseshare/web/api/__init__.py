"""The REST API under /api/v1: the same operations as the portal, as JSON."""
