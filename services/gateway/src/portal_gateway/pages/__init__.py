"""The pages emailed links open (API.md): accept an invitation, a relationship request, a reseller change.

A person clicking "Accept the invitation" in an email must land on a page, not
on a POST-only JSON route. Each link (paths in `portal_shared.links`) opens a
page in the email's language that shows what is being accepted, with a form
whose button accepts: plain HTML, no JavaScript, a CSRF check (`csrf.py`), a
Content-Security-Policy that allows no script and no framing. The page reads
and acts through the same service calls as the public JSON routes, which stay
as they are for API clients. A used or expired link answers 410, an unknown
one 404, each with a page that says so. Opening a link never changes
anything, only the button does: mail scanners that fetch every link in an
email cannot use up a customer's token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import ValidationError

from portal_shared.api.customers import InvitationAcceptance
from portal_shared.links import (
    INVITATION_PAGE,
    RELATIONSHIP_REQUEST_PAGE,
    RESELLER_CHANGE_PAGE,
    invitation_link,
    relationship_request_link,
    reseller_change_link,
)
from portal_shared.problems import Problem

from portal_gateway.adapters.services import Answer, ServiceClients
from portal_gateway.pages import csrf
from portal_gateway.pages.texts import TEXTS, language, preferred

router = APIRouter()

_HERE = Path(__file__).parent
STYLESHEET = "/assets/email-links.css"
_CSS = (_HERE / "static" / "pages.css").read_bytes()
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",  # the pages carry a personal token and a customer's data
}


@dataclass(frozen=True)
class Kind:
    """One kind of emailed link: its page, and the service routes behind it."""

    name: str
    page: str
    link: Callable[[str, str], str]
    details: str
    accept: str
    asks_name: bool = False


INVITATION = Kind("invitation", INVITATION_PAGE, invitation_link, "/v1/invitations/{}", "/v1/invitations/{}/accept",
                  asks_name=True)
RELATIONSHIP = Kind("relationship", RELATIONSHIP_REQUEST_PAGE, relationship_request_link,
                    "/v1/relationship-requests/{}", "/v1/relationship-requests/{}/accept")
RESELLER_CHANGE = Kind("reseller_change", RESELLER_CHANGE_PAGE, reseller_change_link, "/v1/reseller-changes/{}",
                       "/v1/reseller-changes/{}/redeem")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(_HERE / "templates")), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def _html(lang: str, title: str, status: int, *, headers: dict[str, str] | None = None, **page: Any) -> HTMLResponse:
    values = {"message": None, "outcome": "", "rows": [], "form": None, **page}
    body = _environment().get_template("page.html.j2").render(
        lang=lang, t=TEXTS[lang], title=title, stylesheet=STYLESHEET, **values
    )
    return HTMLResponse(body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def _notice(lang: str, what: str, status: int, *, headers: dict[str, str] | None = None, **data: str) -> HTMLResponse:
    """A page that only tells: `what` names its title and text in `texts.TEXTS`."""
    t = TEXTS[lang]
    outcome = {404: "gone", 410: "gone", 409: "refused", 403: "refused"}.get(status, "")
    return _html(lang, t[f"{what}_title"], status, headers=headers, message=t[what].format(**data), outcome=outcome)


def _token(request: Request) -> str:
    [token] = request.path_params.values()
    return token


def _expiry(found: dict[str, Any], lang: str) -> str:
    if not found.get("expires_at"):
        return TEXTS[lang]["single_use"]
    moment = datetime.fromisoformat(found["expires_at"])
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")  # as the emails write instants


def _rows(kind: Kind, found: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    t = TEXTS[lang]
    rows = [(t["customer"], f"{found['customer_name']} ({found['customer_number']})")]
    if kind is RESELLER_CHANGE:
        rows += [(t["current_partner"], found["from_partner_name"]), (t["new_partner"], found["partner_name"])]
    else:
        rows.append((t["partner"], found["partner_name"]))
    if found.get("with_partner_name"):
        rows.append((t["with_partner"], found["with_partner_name"]))
    if found.get("email"):
        rows.append((t["email"], found["email"]))
    return [*rows, (t["valid_until"], _expiry(found, lang))]


def _fill(found: dict[str, Any]) -> dict[str, str]:
    return {"customer": found["customer_name"], "partner": found["partner_name"], "email": found.get("email") or ""}


async def _call(request: Request, method: str, path: str, **kw: Any) -> Answer | None:
    """A call to service customers; None when it is down or slow (the page then says so, nothing changed)."""
    services: ServiceClients = request.app.state.services
    try:
        return await services.request("customers", method, path, **kw)
    except Problem:
        return None


async def _lookup(request: Request, kind: Kind, token: str) -> dict[str, Any] | HTMLResponse:
    """What the link offers, or the page for an unknown link or an unavailable service."""
    answer = await _call(request, "GET", kind.details.format(quote(token, safe="")))
    fallback = preferred(request.headers.get("accept-language"))
    if answer is None or answer.status_code >= 500:
        return _notice(fallback, "unavailable", 503, headers={"Retry-After": "5"})
    if answer.status_code != 200:
        return _notice(fallback, "unknown", 404)
    found = answer.json()
    found["lang"] = language(found.get("locale")) or fallback
    return found


def _gone(found: dict[str, Any]) -> HTMLResponse:
    return _notice(found["lang"], "expired" if found["status"] == "expired" else "used", 410)


def _offer(request: Request, kind: Kind, token: str, found: dict[str, Any], *, status: int = 200,
           name: str | None = None, error: str | None = None) -> HTMLResponse:
    """The page with the details and the accepting form; the CSRF nonce cookie is kept or set."""
    lang, t = found["lang"], TEXTS[found["lang"]]
    nonce = request.cookies.get(csrf.COOKIE) or csrf.new_nonce()
    form = {
        "action": kind.link("", token),  # the page's own path
        "csrf_field": csrf.FIELD,
        "csrf_value": csrf.form_value(_key(request), nonce, kind.name, token),
        "button": t[f"{kind.name}_button"],
        "name": (found.get("contact_name") or "") if name is None else name,
        "error": error,
    }
    if not kind.asks_name:
        form["name"] = None
    page = _html(lang, t[f"{kind.name}_title"], status, message=t[f"{kind.name}_intro"].format(**_fill(found)),
                 rows=_rows(kind, found, lang), form=form)
    page.set_cookie(csrf.COOKIE, nonce, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                    path="/")
    return page


def _key(request: Request) -> bytes:
    return csrf.derive_key(request.app.state.token_secret)


def _show(kind: Kind):
    async def show(request: Request) -> Response:
        token = _token(request)
        found = await _lookup(request, kind, token)
        if isinstance(found, Response):
            return found
        if found["status"] != "pending":
            return _gone(found)
        return _offer(request, kind, token, found)

    return show


def _accept(kind: Kind):
    async def accept(request: Request) -> Response:
        token = _token(request)
        found = await _lookup(request, kind, token)
        if isinstance(found, Response):
            return found
        if found["status"] != "pending":
            return _gone(found)
        form = await request.form()
        given = form.get(csrf.FIELD)
        if not csrf.valid(_key(request), request.cookies.get(csrf.COOKIE), given if isinstance(given, str) else None,
                          kind.name, token):
            return _notice(found["lang"], "forbidden", 403)
        body = None
        if kind.asks_name:
            name = form.get("admin_name")
            try:
                if isinstance(name, str) and "\x00" in name:  # PostgreSQL text cannot hold it (see nul.py)
                    raise ValueError("NUL")
                body = InvitationAcceptance.model_validate({"admin_name": name}).model_dump()
            except (ValidationError, ValueError):
                error = TEXTS[found["lang"]]["name_required"]
                return _offer(request, kind, token, found, status=422, name=name if isinstance(name, str) else "",
                              error=error)
        answer = await _call(request, "POST", kind.accept.format(quote(token, safe="")), json=body)
        return await _outcome(request, kind, token, found, answer)

    return accept


async def _outcome(request: Request, kind: Kind, token: str, found: dict[str, Any], answer: Answer | None) -> Response:
    lang = found["lang"]
    if answer is not None and answer.status_code == 200:
        t = TEXTS[lang]
        return _html(lang, t[f"{kind.name}_done_title"], 200, message=t[f"{kind.name}_done"].format(**_fill(found)),
                     outcome="done", rows=_rows(kind, found, lang)[:-1])
    if answer is not None and answer.status_code == 409:
        if answer.json().get("type", "").endswith("/cus-14"):
            return _notice(lang, "refused", 409, **_fill(found))
        again = await _lookup(request, kind, token)  # used or expired meanwhile (another tab, the clock)
        if not isinstance(again, Response) and again["status"] != "pending":
            return _gone(again)
    if answer is not None and answer.status_code == 404:
        return _notice(lang, "unknown", 404)
    return _notice(lang, "unavailable", 503, headers={"Retry-After": "5"})


def _moved(kind: Kind):
    async def moved(request: Request) -> Response:
        """Links mailed before the pages existed pointed at the JSON route: a browser's GET goes to the page."""
        return RedirectResponse(kind.link("", _token(request)), status_code=303)

    return moved


async def stylesheet(request: Request) -> Response:
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


# Pages, not API: left out of the OpenAPI document (and so of the schema-driven fuzzing).
router.add_api_route(STYLESHEET, stylesheet, methods=["GET"], include_in_schema=False)
for _kind in (INVITATION, RELATIONSHIP, RESELLER_CHANGE):
    router.add_api_route(_kind.page, _show(_kind), methods=["GET"], include_in_schema=False)
    router.add_api_route(_kind.page, _accept(_kind), methods=["POST"], include_in_schema=False)
router.add_api_route("/v1/invitations/{token}/accept", _moved(INVITATION), methods=["GET"], include_in_schema=False)
router.add_api_route("/v1/relationship-requests/{token}/accept", _moved(RELATIONSHIP), methods=["GET"],
                     include_in_schema=False)
