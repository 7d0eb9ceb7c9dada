"""Items: ownership, keyset pagination with opaque cursors, filters, whitelisted sorts, summary."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import https_client, sign_up_and_log_in


def _create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/items", json={"title": "an item", **fields})
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


def _all_pages(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query: dict[str, Any] = {**params, "cursor": cursor} if cursor else params
        response = client.get("/items", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_create_read_update_delete(user_client: TestClient) -> None:
    item = _create(user_client, title="write the docs", priority=4)
    assert item["status"] == "open"
    assert user_client.get(f"/items/{item['id']}").json() == item

    updated = user_client.patch(f"/items/{item['id']}", json={"status": "done"})
    assert updated.status_code == 200
    assert updated.json() | {"status": "open"} == item

    assert user_client.delete(f"/items/{item['id']}").status_code == 204
    assert user_client.get(f"/items/{item['id']}").status_code == 404


def test_items_are_private_to_their_owner(app: FastAPI, user_client: TestClient) -> None:
    item = _create(user_client)
    stranger = https_client(app)
    sign_up_and_log_in(stranger)
    assert stranger.get(f"/items/{item['id']}").status_code == 404
    assert stranger.patch(f"/items/{item['id']}", json={"title": "mine"}).status_code == 404
    assert stranger.delete(f"/items/{item['id']}").status_code == 404
    assert stranger.get("/items").json()["items"] == []


def test_summary_counts_the_owners_items(app: FastAPI, user_client: TestClient) -> None:
    for status, priority in [("open", 1), ("open", 5), ("in_progress", 5), ("done", 3)]:
        _create(user_client, status=status, priority=priority)
    today = datetime.now(UTC).date()
    this_week = (today - timedelta(days=today.weekday())).isoformat()

    summary = user_client.get("/items/summary").json()
    assert summary["total"] == 4
    assert summary["by_status"] == {"open": 2, "in_progress": 1, "done": 1}
    assert summary["by_priority"] == {"1": 1, "3": 1, "5": 2}
    weeks = summary["created_per_week"]
    assert len(weeks) == 12
    assert weeks[-1] == {"week_start": this_week, "created": 4}
    assert [week["created"] for week in weeks[:-1]] == [0] * 11

    stranger = https_client(app)
    sign_up_and_log_in(stranger)
    theirs = stranger.get("/items/summary").json()
    assert theirs["total"] == 0
    assert theirs["by_status"] == {"open": 0, "in_progress": 0, "done": 0}
    assert theirs["by_priority"] == {}


def test_items_need_a_session(client: TestClient) -> None:
    assert client.get("/items").status_code == 401
    assert client.get("/items/summary").status_code == 401
    assert client.post("/items", json={"title": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("created_at", "created_at", False),
        ("-created_at", "created_at", True),
        ("priority", "priority", False),
        ("-priority", "priority", True),
        ("title", "title", False),
        ("-title", "title", True),
    ],
)
def test_keyset_pagination_visits_every_item_once_in_order(
    user_client: TestClient, sort: str, key: str, reverse: bool
) -> None:
    created = [_create(user_client, title=f"item {n % 4}", priority=n % 3 + 1) for n in range(7)]
    pages = _all_pages(user_client, sort=sort, limit=3)
    assert sorted(item["id"] for item in pages) == sorted(item["id"] for item in created)
    order = [(item[key], item["id"]) for item in pages]
    assert order == sorted(order, reverse=reverse)


def test_filters(user_client: TestClient) -> None:
    _create(user_client, status="done", priority=1)
    wanted = _create(user_client, status="open", priority=5)
    _create(user_client, status="open", priority=2)
    assert [i["id"] for i in _all_pages(user_client, status="open", priority=5)] == [wanted["id"]]
    assert len(_all_pages(user_client, status="open", sort="priority")) == 2


def test_invalid_cursors_are_400(user_client: TestClient) -> None:
    for n in range(3):
        _create(user_client, title=f"t{n}")
    cursor = user_client.get("/items", params={"limit": 1}).json()["next_cursor"]
    for bad in ["garbage!", "e30", cursor[:-3], cursor + "x"]:
        response = user_client.get("/items", params={"cursor": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "invalid_input"
    forged = {"sort": "priority", "value": 10**30, "id": str(uuid.uuid4())}
    out_of_range = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    response = user_client.get("/items", params={"cursor": out_of_range, "sort": "priority"})
    assert response.status_code == 400
    title_cursor = user_client.get("/items", params={"limit": 1, "sort": "title"}).json()
    for other, sort in [(cursor, "title"), (title_cursor["next_cursor"], "priority")]:
        other_sort = user_client.get("/items", params={"cursor": other, "sort": sort})
        assert other_sort.status_code == 400
        assert "sort order" in other_sort.json()["error"]["message"]


def test_unknown_sort_fields_and_bad_limits_are_rejected(user_client: TestClient) -> None:
    rejected: list[dict[str, str | int]] = [
        {"sort": "password_hash"},
        {"sort": "owner_id"},
        {"limit": 0},
        {"limit": 101},
    ]
    for params in rejected:
        response = user_client.get("/items", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"] == "validation_failed"


def test_invalid_item_ids_and_fields_are_rejected(user_client: TestClient) -> None:
    assert user_client.get("/items/not-a-uuid").status_code == 422
    assert user_client.post("/items", json={"title": ""}).status_code == 422
    assert user_client.post("/items", json={"title": "x", "priority": 9}).status_code == 422
    assert user_client.post("/items", json={"title": "x", "status": "lost"}).status_code == 422
