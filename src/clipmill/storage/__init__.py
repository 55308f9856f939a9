"""Files: local directory (embedded) or an S3-compatible bucket (scaled), behind signed links."""
