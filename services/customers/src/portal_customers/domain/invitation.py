"""CUS-2 and CUS-14: the invitation of a customer's primary contact."""

from __future__ import annotations

from portal_shared.problems import RuleViolation


def check_can_remind(status: str) -> None:
    """While pending the partner may resend; once accepted nothing of the invitation changes."""
    if status != "pending":
        raise RuleViolation("CUS-2", "the invitation was already accepted; no reminder can be sent")


def check_can_accept(status: str) -> None:
    if status != "pending":
        raise RuleViolation("CUS-2", "this invitation was already accepted")


def check_not_primary_admin_of_namesake(already_primary_of_same_name: bool) -> None:
    """CUS-14: one admin cannot be primary admin of two customers with exactly the same organisation name."""
    if already_primary_of_same_name:
        raise RuleViolation(
            "CUS-14",
            "this admin is already the primary admin of a customer with exactly the same organisation name",
        )
