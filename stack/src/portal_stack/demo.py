"""The demo partner `make run` loads, through the public API like any client.

Its credentials are kept in `.portal/demo.json` (mode 600) so the demo
partner survives restarts; a stale file (new database) is replaced.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx

DEMO_PARTNER = {
    "name": "Demo Distribution Ltd",
    "kind": "distributor",
    "country": "ES",
    "currency": "EUR",
    "locale": "en",
}
DEMO_ADMIN_EMAIL = "admin@demo-partner.example"
DEMO_CATALOG = Path(__file__).resolve().parents[3] / "services" / "subscriptions" / "demo" / "catalog.json"


def load_catalog(gateway_url: str, operator_token: str, path: Path = DEMO_CATALOG) -> dict:
    """CAT-7: the demo catalog (a data file) through the operator's catalog upload."""
    response = httpx.put(
        f"{gateway_url}/v1/catalog",
        content=path.read_bytes(),
        headers={"Authorization": f"Bearer {operator_token}", "Content-Type": "application/json"},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()


def load_demo(gateway_url: str, operator_token: str, state_file: Path) -> dict:
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        if state_file.exists():
            demo = json.loads(state_file.read_text())
            me = client.get("/v1/partners/me", headers={"Authorization": f"Bearer {demo['api_key']}"})
            if me.status_code == 200:
                return demo
        password = secrets.token_urlsafe(12)
        admin = {"name": "Demo Admin", "email": DEMO_ADMIN_EMAIL, "password": password}
        created = client.post(
            "/v1/partners",
            json={**DEMO_PARTNER, "admin": admin},
            headers={"Authorization": f"Bearer {operator_token}"},
        )
        created.raise_for_status()
        token = client.post("/v1/auth/token", data={"username": DEMO_ADMIN_EMAIL, "password": password})
        token.raise_for_status()
        key = client.post(
            "/v1/partners/me/api-keys",
            json={"name": "demo", "roles": ["global_admin"]},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        key.raise_for_status()
    demo = {
        "partner_id": created.json()["id"],
        "admin_email": DEMO_ADMIN_EMAIL,
        "admin_password": password,
        "api_key": key.json()["key"],
    }
    state_file.write_text(json.dumps(demo, indent=2))
    state_file.chmod(0o600)
    return demo
