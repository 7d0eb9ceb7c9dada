"""Practice 1, stateless processes: serving requests writes nothing to the local disk.

A Python audit hook sees every file the process opens for writing while the domain is exercised.
"""

import os
import sys
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD, new_email

_WRITE_MODES = set("wax+")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
_written: list[str] = []
_recording = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _recording:
        return
    if event == "open":
        path, mode, flags = args
        writes = bool(_WRITE_MODES & set(mode)) if isinstance(mode, str) else flags & _WRITE_FLAGS
        if writes and "__pycache__" not in str(path):  # Python's bytecode cache is not the app's
            _written.append(str(path))
    elif event in {"os.mkdir", "os.rename", "os.remove", "shutil.copyfile"}:
        _written.append(f"{event} {args[0]}")


sys.addaudithook(_audit)


def test_serving_requests_writes_no_files(client: TestClient) -> None:
    global _recording  # noqa: PLW0603  # the audit hook cannot be removed, only switched
    credentials = {"email": new_email(), "password": TEST_PASSWORD}
    _recording = True
    try:
        responses = [
            client.post("/accounts/signup", json=credentials),
            client.post("/accounts/login", json=credentials),
            client.post("/items", json={"title": "no files please"}),
        ]
        item_url = f"/items/{responses[-1].json()['id']}"
        responses += [
            client.get("/items", params={"sort": "title"}),
            client.patch(item_url, json={"status": "done"}),
            client.delete(item_url),
            client.post("/accounts/logout"),
        ]
    finally:
        _recording = False
    assert [r.status_code for r in responses] == [201, 200, 201, 200, 200, 204, 204]
    assert _written == []
