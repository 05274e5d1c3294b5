"""BIL-4: payment methods — a card is kept only as a vault token, PayPal as a billing agreement.

The portal never holds a card number (PCI DSS scope stays with the vault): a
card is stored as the vault's token, its brand, the last four digits and the
expiry; PayPal as its billing agreement id. A request body that carries
anything looking like a full card number — in any field, at any depth, in a key
or a value — is refused whole, naming the field and never repeating the value.

"Looks like a card number": a run of 13 to 19 digits, possibly grouped by
single spaces or dashes (`4111 1111 1111 1111`, `4111-1111-1111-1111`), that
passes the Luhn check. Within a longer grouped run (`4111 1111 1111 1111 12`)
every span of whole groups of 13–19 digits is checked; an ungrouped run of
more than 19 digits is an identifier, not a card number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
# Identifiers in the canonical 8-4-4-4-12 form are never card numbers, though their digit runs can pass Luhn.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GROUP_SPLIT = re.compile(r"[ -]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _candidates(run: str) -> Iterator[str]:
    groups = _GROUP_SPLIT.split(run)
    for first in range(len(groups)):
        digits = ""
        for last in range(first, len(groups)):
            digits += groups[last]
            if len(digits) > 19:
                break
            if len(digits) >= 13:
                yield digits


def contains_card_number(text: str) -> bool:
    text = _UUID.sub(" ", text)
    return any(luhn_valid(c) for run in _DIGIT_RUN.findall(text) for c in _candidates(run))


def card_number_fields(body: Any, path: str = "") -> list[str]:
    """The dotted paths of every key or value of a JSON body that holds something like a card number."""
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            where = f"{path}.{key}" if path else str(key)
            if contains_card_number(str(key)):
                found.append(path or "body")
            found += card_number_fields(value, where)
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found += card_number_fields(value, f"{path}.{index}" if path else str(index))
    elif isinstance(body, (str, int, float)) and not isinstance(body, bool):
        if contains_card_number(str(body)):
            found.append(path or "body")
    return found
