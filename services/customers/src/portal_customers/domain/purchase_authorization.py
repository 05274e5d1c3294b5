"""CUS-13: purchase authorizations — access before the order, cancellable while pending and unassigned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal_shared.problems import RuleViolation


@dataclass(frozen=True)
class PurchaseAuthorization:
    status: str
    due_date: date
    licenses_assigned: int

    def shown_status(self, today: date) -> str:
        """pending / ordered / cancelled, or overdue: still unpaid (pending) past the due date."""
        if self.status == "pending" and today > self.due_date:
            return "overdue"
        return self.status

    def check_cancellable(self) -> None:
        if self.status != "pending":
            raise RuleViolation("CUS-13", f"only a pending purchase authorization can be cancelled (it is {self.status})")
        if self.licenses_assigned > 0:
            raise RuleViolation("CUS-13", "its licenses are already assigned; ask for a return authorization instead")
