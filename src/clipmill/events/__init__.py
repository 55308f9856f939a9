"""Job events: in-memory broadcast (embedded) or Redis pub/sub (scaled)."""
