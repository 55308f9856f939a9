"""An S3 API on loopback for tests: moto's server in a thread of the test process.

No Docker and no network: ``S3Server`` answers real HTTP (boto3's requests, presigned GETs from
httpx) on 127.0.0.1, and ``settings(bucket)`` gives the ``CLIPMILL_S3_*`` values that reach it.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "clipmill-test"
SECRET_KEY = "clipmill-test-secret"
REGION = "us-east-1"


class S3Server:
    """A started moto server; ``new_bucket()`` makes an empty bucket per test."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def __enter__(self) -> S3Server:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.stop()

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(region_name=REGION, s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        name = f"clipmill-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, **overrides: Any) -> dict[str, Any]:
        """Settings (as ``make_container`` keyword arguments) for S3 storage in ``bucket``."""
        return {
            "storage_backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": self.endpoint,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
            "s3_addressing_style": "path",
            **overrides,
        }

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(o["Key"] for o in listing.get("Contents", []))
