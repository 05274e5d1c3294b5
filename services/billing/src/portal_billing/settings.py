"""Settings of service billing (environment variables, see README)."""

from pydantic import Field

from portal_shared.settings import ServiceSettings

from portal_billing.domain.invoice import PaymentTerms, POSTPAID_TERMS_DAYS


class Settings(ServiceSettings):
    service_name: str = "billing"
    http_port: int = Field(default=8103, ge=1, le=65535)
    postpaid_terms_days: int = Field(
        default=POSTPAID_TERMS_DAYS, ge=0, le=365, description="days from issue to due date of a postpaid invoice (BIL-5)"
    )

    @property
    def payment_terms(self) -> PaymentTerms:
        return PaymentTerms(postpaid_days=self.postpaid_terms_days)
