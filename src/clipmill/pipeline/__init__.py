"""Pipelines: what each job kind does, stage by stage, and the runner that drives them."""
