"""Jobs: the one model every piece of work shares (kinds, statuses, stages, events)."""
