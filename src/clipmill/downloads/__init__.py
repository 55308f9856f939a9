"""Single-video downloads: preview, options, the download pipeline."""
