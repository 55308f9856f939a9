from pathlib import Path

import pytest

from clipmill.errors import Forbidden
from clipmill.storage.local import LocalStorage
from clipmill.storage.signing import LinkSigner, load_or_create_secret


def test_sign_and_verify_round_trip() -> None:
    signer = LinkSigner("k", ttl=60)
    assert signer.verify(signer.sign("file-1")) == "file-1"


def test_other_key_is_invalid() -> None:
    token = LinkSigner("k1", ttl=60).sign("f")
    with pytest.raises(Forbidden) as err:
        LinkSigner("k2", ttl=60).verify(token)
    assert err.value.code == "link_invalid"


def test_secret_persists_in_the_data_dir(tmp_path: Path) -> None:
    assert load_or_create_secret(tmp_path) == load_or_create_secret(tmp_path)
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_local_storage_refuses_keys_that_escape(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    src = tmp_path / "a.bin"
    src.write_bytes(b"abc")
    assert storage.put("job/a.bin", src, content_type="x") == 3
    assert storage.exists("job/a.bin") and not src.exists()
    with pytest.raises(Exception) as err:
        storage.put("../escape.bin", tmp_path / "a.bin", content_type="x")
    assert getattr(err.value, "code", "") == "invalid_key"
