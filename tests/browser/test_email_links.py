"""Issue 15, finding 5: every emailed link opens a page — read at the mail server, opened in a real browser.

A customer reads its email at the SMTP catcher, opens the link in headless Chromium, sees what it accepts
(customer, partner, expiry) in its own language, presses the button and sees the result; the public API then
shows the change, and the link, opened again, says it was used. No JavaScript is needed on any page.
"""

from __future__ import annotations

import email
import email.policy
import re

import httpx
import pytest

from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e

_PAGE_LINK = r"https?://[^\s\"'<>]+/{}/[A-Za-z0-9_-]+"


def _mails(stack, to: str, subject: str | None = None) -> list[email.message.EmailMessage]:
    """The emails to `to` (with `subject` in their subject) at the stack's mail server so far, parsed."""
    found = []
    for summary in httpx.get(f"{stack.mail_url}/messages").json():
        if to in " ".join(summary["to"]) and (subject is None or subject in (summary["subject"] or "")):
            raw = httpx.get(f"{stack.mail_url}/messages/{summary['id']}").content
            found.append(email.message_from_bytes(raw, policy=email.policy.default))
    return found


def _mail(stack, to: str, subject: str | None = None) -> email.message.EmailMessage:
    """The one email to `to` (with `subject` in its subject), once it has arrived."""
    [message] = eventually(lambda: _mails(stack, to, subject), what=f"the email to {to}")
    return message


def _link(message: email.message.EmailMessage, page: str) -> str:
    """The page link of the plain-text part, which the HTML part's button opens too."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    [link] = set(re.findall(_PAGE_LINK.format(page), text))
    assert f'href="{link}"' in html, "the HTML button opens the same page"
    return link


def _partner_name(partner) -> str:
    return partner.get("/v1/partners/me").json()["name"]


def _details(page) -> str:
    return page.locator("#details").inner_text()


def _invited(partner, stack, **overrides) -> tuple[dict, str]:
    customer = partner.post("/v1/customers", json=customer_body(**overrides))
    assert customer.status_code == 201, customer.text
    customer = customer.json()
    return customer, _link(_mail(stack, customer["contact"]["email"]), "invitations")


def test_trust_5_the_invitation_link_opens_a_page_whose_button_accepts_and_then_says_used(stack, gateway, page):
    partner = gateway.create_partner()
    customer, link = _invited(partner, stack)
    assert link.startswith(stack.gateway_url + "/invitations/"), "a page at the gateway's origin"

    opened = page.goto(link)
    assert opened.status == 200 and opened.headers["content-type"].startswith("text/html")
    policy = opened.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script" not in policy
    assert page.locator("script").count() == 0, "no JavaScript needed"
    assert page.title().startswith("Accept the invitation")
    shown = _details(page)
    for expected in (customer["name"], customer["number"], _partner_name(partner), customer["contact"]["email"]):
        assert expected in shown
    assert "Valid until" in shown and "works once" in shown
    assert page.input_value("#admin_name") == customer["contact"]["name"]

    page.fill("#admin_name", "Ana From The Browser")
    with page.expect_navigation():
        page.click("#accept")
    assert page.title().startswith("Invitation accepted")
    assert customer["name"] in page.locator("#message").inner_text()
    assert partner.get(f"/v1/customers/{customer['id']}").json()["invitation"]["status"] == "accepted"

    again = page.goto(link)
    assert again.status == 410
    assert page.title().startswith("This link was already used")
    assert page.locator("form").count() == 0


def test_trust_5_an_unknown_or_replaced_link_opens_a_not_found_page(stack, gateway, page):
    for path in ("/invitations/no-such-token", "/relationship-requests/no-such-token", "/reseller-changes/AAAA-BBBB-CCCC"):
        opened = page.goto(stack.gateway_url + path)
        assert opened.status == 404, path
        assert page.title().startswith("This link is not valid"), path
    partner = gateway.create_partner()
    customer, first = _invited(partner, stack)
    reminded = partner.post(f"/v1/customers/{customer['id']}/invitation/reminders", json={})
    assert reminded.status_code == 201, reminded.text
    assert page.goto(first).status == 404, "a reminder's link replaces the first one"


@pytest.mark.parametrize(("locale", "title", "button"), [
    ("es", "Aceptar la invitación", "Aceptar la invitación"),
    ("pt-BR", "Aceitar o convite", "Aceitar o convite"),
])
def test_trust_5_the_page_speaks_the_customers_language(stack, gateway, page, locale, title, button):
    partner = gateway.create_partner()
    customer, link = _invited(partner, stack, locale=locale)
    assert page.goto(link).status == 200
    assert page.get_attribute("html", "lang") == locale[:2]
    assert page.title().startswith(title)
    assert page.inner_text("#accept") == button
    with page.expect_navigation():
        page.click("#accept")
    assert page.title().startswith({"es": "Invitación aceptada", "pt": "Convite aceito"}[locale[:2]])
    page.goto(link)
    assert page.title().startswith({"es": "Este enlace ya se utilizó", "pt": "Este link já foi usado"}[locale[:2]])


def test_trust_5_a_post_without_the_csrf_token_is_refused_and_changes_nothing(stack, gateway, page):
    partner = gateway.create_partner()
    customer, link = _invited(partner, stack)
    # Another site's form, submitted from the victim's browser after it opened the page (and got its cookie).
    assert page.goto(link).status == 200
    page.set_content(f'<form method="post" action="{link}"><input name="csrf_token" value="forged">'
                     f'<input name="admin_name" value="Mallory"><button id="go">go</button></form>')
    with page.expect_navigation():
        page.click("#go")
    assert page.title().startswith("The form could not be checked")
    # A script without the browser: no cookie, no token; then the cookie and token of another link's page.
    plain = httpx.post(link, data={"admin_name": "Mallory"})
    assert plain.status_code == 403 and plain.headers["content-type"].startswith("text/html")
    other_customer, other_link = _invited(partner, stack)
    with httpx.Client() as client:
        other_page = client.get(other_link)
        token = re.search(r'name="csrf_token" value="([^"]+)"', other_page.text).group(1)
        assert client.post(link, data={"csrf_token": token, "admin_name": "Mallory"}).status_code == 403
        # With this page's own value, bad input is still refused, as a page naming the field.
        own = re.search(r'name="csrf_token" value="([^"]+)"', client.get(link).text).group(1)
        for name in ("", "a\x00b", "x" * 201):
            refused = client.post(link, data={"csrf_token": own, "admin_name": name})
            assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text, name
    for refused in (customer, other_customer):
        assert partner.get(f"/v1/customers/{refused['id']}").json()["invitation"]["status"] == "pending"


def test_trust_5_a_link_mailed_before_the_pages_redirects_to_its_page(stack, gateway):
    partner = gateway.create_partner()
    _, link = _invited(partner, stack)
    token = link.rsplit("/", 1)[1]
    old = httpx.get(f"{stack.gateway_url}/v1/invitations/{token}/accept")
    assert old.status_code == 303 and old.headers["location"] == f"/invitations/{token}"
    assert httpx.get(f"{stack.gateway_url}/v1/invitations/{token}").json()["status"] == "pending", "JSON by token"


def test_trust_5_the_relationship_request_link_opens_a_page_that_accepts(stack, gateway, page):
    partner = gateway.create_partner()
    customer = partner.post("/v1/customers", json=customer_body()).json()
    draft = partner.post(f"/v1/customers/{customer['id']}/relationship-requests", json={})
    assert draft.status_code == 201, draft.text
    draft = draft.json()
    link = _link(_mail(stack, draft["sent_to"], draft["email_subject"]), "relationship-requests")
    assert link == draft["url"]

    assert page.goto(link).status == 200
    assert page.title().startswith("Accept the reseller relationship")
    shown = _details(page)
    assert customer["name"] in shown and _partner_name(partner) in shown and "works once" in shown
    with page.expect_navigation():
        page.click("#accept")
    assert page.title().startswith("Relationship accepted")
    token = link.rsplit("/", 1)[1]
    assert httpx.get(f"{stack.gateway_url}/v1/relationship-requests/{token}").json()["status"] == "accepted"
    assert page.goto(link).status == 410


def _admin_customer(gateway, partner, stack) -> dict:
    customer, link = _invited(partner, stack)
    token = link.rsplit("/", 1)[1]
    accepted = gateway.http.post(f"/v1/invitations/{token}/accept", json={"admin_name": "Ana Admin"})
    assert accepted.status_code == 200, accepted.text
    return customer


def test_trust_5_the_reseller_change_link_shows_both_partners_and_expiry_and_redeems(stack, gateway, page):
    partner = gateway.create_partner()
    customer = _admin_customer(gateway, partner, stack)
    new_partner = gateway.create_partner()
    issued = new_partner.post("/v1/reseller-changes",
                              json={"customer_number": customer["number"], "admin_email": customer["contact"]["email"]})
    assert issued.status_code == 201, issued.text
    expires = issued.json()["expires_at"]
    email_to = customer["contact"]["email"]
    link = _link(_mail(stack, email_to, "Reseller change"), "reseller-changes")

    assert page.goto(link).status == 200
    assert page.title().startswith("Change the reseller")
    shown = _details(page)
    assert customer["name"] in shown and _partner_name(partner) in shown and _partner_name(new_partner) in shown
    assert expires[:16].replace("T", " ") + " UTC" in shown, (expires, shown)
    with page.expect_navigation():
        page.click("#accept")
    assert page.title().startswith("Reseller changed")
    assert new_partner.get(f"/v1/customers/{customer['id']}").status_code == 200
    assert partner.get(f"/v1/customers/{customer['id']}").status_code == 404
    assert page.goto(link).status == 410
    assert page.title().startswith("This link was already used")

    expiring = partner.post("/v1/reseller-changes",
                            json={"customer_number": customer["number"], "admin_email": customer["contact"]["email"]})
    assert expiring.status_code == 201, expiring.text
    [second] = eventually(lambda: {_link(m, "reseller-changes") for m in _mails(stack, email_to, "Reseller change")}
                          - {link}, what="the second code's email")
    assert gateway.move_clock(advance="PT72H").status_code == 200
    opened = page.goto(second)
    assert opened.status == 410
    assert page.title().startswith("This link has expired")
