"""The upload streams: a 40 MiB file goes from the request's chunks into storage (moto's S3 server, and the
local folder) while Python never holds more than a few parts of it; size and SHA-256 are counted on the way; a
refusal halfway (over the limit) leaves no object behind, also not an unfinished multipart upload."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from apps.documents.uploads import UploadRejected, receive_upload
from core.security import make_csrf_token
from core.storage import LocalStorage, S3Storage, storage_from_url
from tests.support import free_port

SECRET = "s" * 40
MiB = 1024 * 1024
BOUNDARY = "----trede-test-boundary"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server in its own process: its memory must not count as the upload's (tracemalloc)."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, s3_endpoint):
    if request.param == "local":
        return LocalStorage(tmp_path / "objects")
    store = storage_from_url(
        f"s3+http://test:test@{s3_endpoint}/stream-{abs(hash(tmp_path.name)) % 10**9}?region=us-east-1"
    )
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    return store


def file_chunks(size: int, chunk: int = 64 * 1024):
    """A PDF-looking file of ``size`` bytes, produced chunk by chunk (never whole in memory)."""
    head = b"%PDF-1.7\n"
    yield head
    sent, counter = len(head), 0
    while sent < size:
        block = hashlib.sha256(counter.to_bytes(8, "big")).digest() * (chunk // 32)
        block = block[: size - sent]
        counter += 1
        sent += len(block)
        yield block


class FakeRequest:
    """What receive_upload needs of a Litestar request: headers, cookies and ``stream()`` of many small chunks."""

    def __init__(self, size: int, token: str, filename: str = "groot.pdf"):
        self.size, self.token, self.filename = size, token, filename
        self.cookies = {"csrftoken": token}
        self.session = {}  # a visitor without a session: the token is bound to ""
        self.headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}

    async def stream(self):
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{self.token}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="soort"\r\n\r\nplan_van_aanpak\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="bestand"; filename="{self.filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        for chunk in file_chunks(self.size):
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()
        yield b""


def expected_sha(size: int) -> str:
    digest = hashlib.sha256()
    for chunk in file_chunks(size):
        digest.update(chunk)
    return digest.hexdigest()


async def test_a_large_upload_streams_into_storage_with_bounded_memory(storage):
    size = 40 * MiB + 12345  # nine S3 parts
    token = make_csrf_token(SECRET, "")
    tracemalloc.start()
    try:
        form = await receive_upload(FakeRequest(size, token), storage, max_bytes=100 * MiB, secret=SECRET)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert form.fields["soort"] == "plan_van_aanpak"
    assert form.file.size == size and form.file.sha256 == expected_sha(size)
    assert form.file.content_type == "application/pdf" and form.file.original_filename == "groot.pdf"
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB for a {size / MiB:.0f} MiB upload"
    stored = hashlib.sha256()
    for chunk in storage.open(form.file.key):
        stored.update(chunk)
    assert stored.hexdigest() == form.file.sha256
    assert list(storage.list_keys()) == [form.file.key]


async def test_an_upload_over_the_limit_is_refused_halfway_and_leaves_nothing(storage):
    token = make_csrf_token(SECRET, "")
    with pytest.raises(UploadRejected) as refused:
        await receive_upload(FakeRequest(12 * MiB, token), storage, max_bytes=7 * MiB, secret=SECRET)
    assert refused.value.status_code == 413 and refused.value.field == "bestand"
    assert "te groot" in refused.value.message
    assert list(storage.list_keys()) == []
    if isinstance(storage, S3Storage):  # the multipart upload was aborted, not left behind
        uploads = storage.client._list_multipart_uploads(storage.bucket)
        assert list(uploads.uploads or []) == []
