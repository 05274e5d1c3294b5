"""Rendering of email templates (NOT-1, NOT-2): Jinja2 files, one per template and language.

Layout of `portal_notifications/templates/`:

    <template>/<lang>.j2     one file per message and language (en, es, pt), with three blocks:
                             {% block subject %}, {% block text %} (plain-text part), {% block html %} (HTML part)
    _layout.html.j2          the HTML document around every {% block html %} (receives `content`, `subject`, `lang`)

A translator edits one file per language and sees the three parts together.
The same file is compiled twice: as `<name>` without autoescaping (subject and
text) and as `<name>#html` with autoescaping (the HTML block), so data are
escaped in HTML and only there. Undefined variables raise (StrictUndefined): a
template asking for data its message does not give fails loudly, in the
rendering test, never with a blank in a customer's inbox.

A language without its file falls back to English (NOT-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound
from markupsafe import Markup

from portal_notifications.domain.messages import MessageDraft

TEMPLATES_DIR = Path(__file__).parent / "templates"
_HTML = "#html"


@dataclass(frozen=True)
class RenderedMessage:
    """A finished email: what is stored in the message log and sent."""

    template: str
    to: str
    language: str
    subject: str
    body_text: str
    body_html: str
    per_recipient: bool = False


class _TwoModeLoader(BaseLoader):
    """`name` and `name#html` load the same file; only the latter is autoescaped."""

    def __init__(self, root: Path) -> None:
        self._files = FileSystemLoader(str(root), encoding="utf-8")

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        return self._files.get_source(environment, template.removesuffix(_HTML))

    def list_templates(self) -> list[str]:
        return self._files.list_templates()


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=_TwoModeLoader(TEMPLATES_DIR),
        autoescape=lambda name: bool(name and name.endswith(_HTML)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def template_file(template: str, language: str) -> str:
    return f"{template}/{language}.j2"


def available_languages(template: str) -> list[str]:
    return sorted(p.stem for p in (TEMPLATES_DIR / template).glob("*.j2"))


def _block(template: Template, block: str, data: dict[str, Any]) -> str:
    if block not in template.blocks:
        raise LookupError(f"template {template.name} has no block {block!r}")
    return "".join(template.blocks[block](template.new_context(data)))


def render(draft: MessageDraft) -> RenderedMessage:
    env = environment()
    language = draft.language
    try:
        env.get_template(template_file(draft.template, language))
    except TemplateNotFound:
        language = "en"
    name = template_file(draft.template, language)
    data = dict(draft.data)
    plain, html = env.get_template(name), env.get_template(name + _HTML)
    subject = " ".join(_block(plain, "subject", data).split())
    text = _block(plain, "text", data).strip() + "\n"
    content = Markup(_block(html, "html", data).strip())
    document = env.get_template("_layout.html.j2" + _HTML).render(content=content, subject=subject, lang=language)
    return RenderedMessage(
        template=draft.template,
        to=draft.to,
        language=language,
        subject=subject,
        body_text=text,
        body_html=document,
        per_recipient=draft.per_recipient,
    )
