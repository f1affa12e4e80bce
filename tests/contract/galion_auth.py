"""Authentication for the schemathesis run (loaded through SCHEMATHESIS_HOOKS).

The run logs in as a user (GALION_CONTRACT_ROLE=user) or an admin (=admin) and sends that
token with every case. Fuzzing reaches operations that end the session (logout, a password
change) or the account itself (DELETE /users/me, an admin demoting or deleting itself), so a
token can stop working mid-run. Schemathesis then asks for a new one (a 401 triggers a re-login
and a replay); when the account can no longer log in, a fresh one is made: registered, and for
the admin run promoted by the platform's bootstrap admin, whose token the run never sees.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid

import schemathesis

API = os.environ["GALION_CONTRACT_API"].rstrip("/")
ROLE = os.environ.get("GALION_CONTRACT_ROLE", "user")
PASSWORD = os.environ["GALION_CONTRACT_PASSWORD"]
BOOTSTRAP_EMAIL = os.environ["GALION_CONTRACT_ADMIN_EMAIL"]
BOOTSTRAP_PASSWORD = os.environ["GALION_CONTRACT_ADMIN_PASSWORD"]


def _call(method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json", "accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{API}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text) if text else {}
        except ValueError:
            return error.code, {}


def _login(email: str, password: str) -> str | None:
    status, body = _call("POST", "/api/v1/auth/login", {"email": email, "password": password})
    return body.get("access_token") if status == 200 else None


def _role(token: str) -> str | None:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims.get("role")


class _Account:
    """The account the run acts as; replaced by a new one when it stops being usable."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.email: str | None = None
        self.made = 0

    def _make(self) -> str:
        self.made += 1
        if self.made > 50:
            raise RuntimeError("made 50 accounts in one run; something else is wrong")
        email = f"contract-{ROLE}-{uuid.uuid4().hex[:12]}@example.com"
        status, body = _call("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD, "name": f"Contract {ROLE}"})
        if status != 201:
            raise RuntimeError(f"registering {email} answered {status}: {body}")
        if ROLE == "admin":
            bootstrap = _login(BOOTSTRAP_EMAIL, BOOTSTRAP_PASSWORD)
            if not bootstrap:
                raise RuntimeError("the bootstrap admin cannot log in")
            user_id = body["id"]
            # The profile is made from the user.registered event, a moment after registration.
            deadline = time.monotonic() + 20
            while True:
                status, body = _call("PATCH", f"/api/v1/users/{user_id}", {"role": "admin"}, bootstrap)
                if status == 200:
                    break
                if status != 404 or time.monotonic() > deadline:
                    raise RuntimeError(f"promoting {email} answered {status}: {body}")
                time.sleep(0.2)
        self.email = email
        return email

    def token(self) -> str:
        with self.lock:
            if self.email:
                token = _login(self.email, PASSWORD)
                if token and (ROLE != "admin" or _role(token) == "admin"):
                    return token
            token = _login(self._make(), PASSWORD)
            if not token:
                raise RuntimeError(f"a new account {self.email} cannot log in")
            return token


ACCOUNT = _Account()


@schemathesis.auth(refresh_interval=60)
class GalionAuth:
    def get(self, case, context):
        return ACCOUNT.token()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
