"""clipmill: self-hosted downloads and shorts."""

__version__ = "0.1.0"
