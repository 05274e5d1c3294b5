"""The emailed links' pages: their CSRF values and their languages (no database, no service)."""

from string import Formatter

from portal_gateway.pages import csrf
from portal_gateway.pages.texts import LANGUAGES, TEXTS, language, preferred


def test_trust_5_a_form_value_is_bound_to_its_cookie_nonce_page_kind_and_link_token():
    key = csrf.derive_key("a-token-secret-of-thirty-two-characters!")
    nonce = csrf.new_nonce()
    value = csrf.form_value(key, nonce, "invitation", "tok-1")
    assert csrf.valid(key, nonce, value, "invitation", "tok-1")
    assert not csrf.valid(key, None, value, "invitation", "tok-1"), "no cookie"
    assert not csrf.valid(key, nonce, None, "invitation", "tok-1"), "no form value"
    assert not csrf.valid(key, csrf.new_nonce(), value, "invitation", "tok-1"), "another browser's cookie"
    assert not csrf.valid(key, nonce, value, "invitation", "tok-2"), "another link"
    assert not csrf.valid(key, nonce, value, "reseller_change", "tok-1"), "another kind of page"
    assert not csrf.valid(csrf.derive_key("another-secret-of-thirty-two-characters!!"), nonce, value, "invitation",
                          "tok-1"), "another installation's key"


def test_trust_5_every_page_text_exists_in_en_es_pt_with_the_same_placeholders():
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    assert set(TEXTS) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert TEXTS[lang].keys() == TEXTS["en"].keys(), lang
        for key, text in TEXTS[lang].items():
            assert fields(text) == fields(TEXTS["en"][key]), (lang, key)
    assert TEXTS["es"]["invitation_button"] != TEXTS["en"]["invitation_button"] != TEXTS["pt"]["invitation_button"]


def test_trust_5_a_page_speaks_the_emails_locale_and_else_the_browsers_language():
    assert language("es-MX") == "es" and language("pt_BR") == "pt" and language("EN") == "en"
    assert language("fr") is None and language(None) is None
    assert preferred("fr-FR,pt-BR;q=0.9,es;q=0.8") == "pt"
    assert preferred("es;q=0.5, pt;q=0.7") == "pt"
    assert preferred("de, fr;q=0.5") == "en" and preferred(None) == "en" and preferred("es;q=x") == "en"
