"""Object storage behind one interface: local disk (embedded) and a real S3 HTTP endpoint (moto's server)."""

from __future__ import annotations

import hashlib
import io

import pytest
from moto.server import ThreadedMotoServer

from core.storage import LocalStorage, S3Storage, new_key, storage_from_url


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, s3_endpoint):
    if request.param == "local":
        return LocalStorage(tmp_path / "objects")
    store = storage_from_url(f"s3+http://test:test@{s3_endpoint}/trede-test?region=us-east-1")
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    return store


def test_put_read_delete_round_trip(storage):
    data = b"%PDF-1.7\n" + bytes(range(256)) * 50_000  # ~12.8 MB: more than two parts
    key = new_key("documents")
    stored = storage.put(key, io.BytesIO(data), "application/pdf")
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert storage.exists(key)
    assert b"".join(storage.open(key)) == data
    storage.delete(key)
    assert not storage.exists(key)
    storage.check()


def test_keys_are_generated_and_never_escape(tmp_path):
    first, second = new_key("documents"), new_key("documents")
    assert first != second and first.startswith("documents/")
    with pytest.raises(ValueError):
        new_key("../etc")
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put("../outside", io.BytesIO(b"x"), "text/plain")
    assert not (tmp_path.parent / "outside").exists()


def test_missing_bucket_fails_the_check(s3_endpoint):
    store = storage_from_url(f"s3+http://test:test@{s3_endpoint}/no-such-bucket")
    with pytest.raises(LookupError, match="no-such-bucket"):
        store.check()
