"""The court-facing HTTP API, its read model and the operations views."""
