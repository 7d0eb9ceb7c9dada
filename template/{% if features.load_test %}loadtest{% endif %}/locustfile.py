"""The load test: each simulated user signs up and signs in, then lists, creates and reads items.

    make loadtest                                         headless, against the balancer
    uv run locust -f loadtest/locustfile.py --host URL    the same with locust's web UI (:8089)

README "Load test" says how to read the results. Every user signs up from the machine running
locust, so the target's SIGNUP_RATE_LIMIT_ATTEMPTS must allow as many sign-ups per address.
"""

import secrets
from http.cookiejar import Cookie, DefaultCookiePolicy
from typing import Any

from locust import HttpUser, between, task


class SecureCookiesOverHttp(DefaultCookiePolicy):
    """Sends Secure cookies over plain http as well: a balancer on a laptop or a private network
    speaks http, and the session cookie is Secure (over https this changes nothing)."""

    def return_ok_secure(self, cookie: Cookie, request: Any) -> bool:
        return True


class ItemsUser(HttpUser):
    # Think time between two actions of one user, as a person clicking around.
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.cookies.set_policy(SecureCookiesOverHttp())
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
