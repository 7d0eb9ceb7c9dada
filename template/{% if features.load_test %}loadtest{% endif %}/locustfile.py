"""The load test: each simulated user signs up and signs in, then lists, creates and reads items.

    make loadtest                                         headless, against the balancer
    uv run locust -f loadtest/locustfile.py --host URL    the same with locust's web UI (:8089)

README "Load test" says how to read the results. Every user signs up from the machine running
locust, so the target's SIGNUP_RATE_LIMIT_ATTEMPTS must allow as many sign-ups per address.
"""

import secrets
from http.cookiejar import Cookie
from typing import Any

from locust import HttpUser, between, task
from requests.cookies import RequestsCookieJar


class PlainHttpCookieJar(RequestsCookieJar):
    """Keeps every cookie without its Secure flag. The balancer of a laptop or a private network
    speaks plain http, where a client keeps the (Secure) session cookie to itself."""

    def set_cookie(self, cookie: Cookie, *args: Any, **kwargs: Any) -> None:
        cookie.secure = False
        super().set_cookie(cookie, *args, **kwargs)


class ItemsUser(HttpUser):
    # Think time between two actions of one user, as a person clicking around.
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.cookies = PlainHttpCookieJar()
        credentials = {
            "email": f"load-{secrets.token_hex(8)}@example.com",
            "password": secrets.token_urlsafe(16),
        }
        self.client.post("/accounts/signup", json=credentials)
        self.client.post("/accounts/login", json=credentials)
        self.item_ids: list[str] = []

    @task(5)
    def list_items(self) -> None:
        self.client.get("/items")

    @task(2)
    def create_item(self) -> None:
        response = self.client.post("/items", json={"title": f"load {secrets.token_hex(4)}"})
        if response.status_code == 201:
            self.item_ids.append(response.json()["id"])

    @task(3)
    def read_item(self) -> None:
        if self.item_ids:
            # One name for all ids, so the results show one line for the route.
            self.client.get(f"/items/{secrets.choice(self.item_ids)}", name="/items/{id}")
