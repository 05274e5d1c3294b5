"""Bodies of the catalog and commerce routes (API.md "Catalog, carts, quotes, orders")."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt, StringConstraints, model_validator

from portal_shared.api.customers import CustomerCreate
from portal_shared.events.subscriptions import BillingFrequency, PaymentMethod, Term

Segment = Literal["commercial", "education", "government"]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term: Term
    billing_frequency: BillingFrequency
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    unit_price: Decimal = Field(ge=0, description="per unit for the whole term at this billing frequency")


class TrialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seats: StrictInt = Field(default=25, ge=1)
    days: StrictInt = Field(default=30, ge=1)
    converts_to: str


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,60}$")
    name: str
    publisher: Literal["vendor", "isv"]
    description: str = ""


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,60}$")
    product_id: str
    name: str
    publisher: Literal["vendor", "isv"]
    billing_type: Literal["license", "usage"]
    category: Literal["enterprise", "small_business", "trial"]
    segments: list[Segment] = Field(min_length=1)
    countries: list[str] = Field(min_length=1, description="ISO codes, or ['*'] for every country")
    one_per_customer: StrictBool = False
    base_offer_id: str | None = Field(default=None, description="set for an add-on (CAT-3)")
    upgrade_targets: list[str] = []
    downgrade_targets: list[str] = Field(default=[], description="bundle → single products, at renewal only (CAT-4)")
    trial: TrialIn | None = None
    cloud: StrictBool = Field(default=False, description="licenses carry a domain")
    prices: list[PriceIn] = Field(min_length=1)


class DirectQuoteLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: str
    quantity: StrictInt = Field(ge=1)
    term: Term
    billing_frequency: BillingFrequency


class DirectQuoteIn(BaseModel):
    """COM-4: a quote the vendor issued directly, which a partner may convert into its own."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(pattern=r"^DQ-[0-9A-Z-]{3,20}$")
    organisation: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    valid_until: date
    lines: list[DirectQuoteLineIn] = Field(min_length=1)


class CatalogDocument(BaseModel):
    """CAT-7: the whole catalog, as the operator uploads it (the demo one is a data file)."""

    model_config = ConfigDict(extra="forbid")

    products: list[ProductIn]
    offers: list[OfferIn]
    direct_quotes: list[DirectQuoteIn] = []

    @model_validator(mode="after")
    def _references(self) -> CatalogDocument:
        products = {p.id for p in self.products}
        offers = {o.id for o in self.offers}
        for offer in self.offers:
            missing = [t for t in (offer.base_offer_id, *(offer.upgrade_targets), *(offer.downgrade_targets),
                                   offer.trial.converts_to if offer.trial else None) if t and t not in offers]
            if offer.product_id not in products:
                raise ValueError(f"offer {offer.id}: unknown product {offer.product_id}")
            if missing:
                raise ValueError(f"offer {offer.id}: unknown offers {missing}")
            for price in offer.prices:
                if price.billing_frequency == "upfront" and price.term == "P1M":
                    raise ValueError(f"offer {offer.id}: upfront billing needs a term of a year or more")
        for quote in self.direct_quotes:
            unknown = [line.offer_id for line in quote.lines if line.offer_id not in offers]
            if unknown:
                raise ValueError(f"direct quote {quote.number}: unknown offers {unknown}")
        return self


CloudDomain = Annotated[
    str,
    StringConstraints(to_lower=True, max_length=253,
                      pattern=r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"),
]


class CartItemCreate(BaseModel):
    """COM-1, COM-2: an offer in the cart; `end_date` co-terms it; add-ons name their base (CAT-3)."""

    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=100)
    quantity: StrictInt = Field(ge=1, le=100000)
    term: Term
    billing_frequency: BillingFrequency
    end_date: date | None = None
    base_subscription_id: uuid.UUID | None = None
    domain: CloudDomain | None = Field(
        default=None, description="SUB-12: the domain a cloud offer's licenses carry (default: the customer's email domain)"
    )


class CartItemUpdate(BaseModel):
    """Change an item; `{"end_date": null}` restores the default end date (COM-2 "Set default")."""

    model_config = ConfigDict(extra="forbid")

    quantity: StrictInt | None = Field(default=None, ge=1, le=100000)
    term: Term | None = None
    billing_frequency: BillingFrequency | None = None
    end_date: date | None = None
    domain: CloudDomain | None = None


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=300)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class QuoteCreate(BaseModel):
    """COM-3: freeze the cart into a quote, valid until a date (default: the quote validity setting)."""

    model_config = ConfigDict(extra="forbid")

    valid_until: date | None = None
    billing_address: Address | None = None


class QuoteSend(BaseModel):
    """NOT-1: mail the quote with its PDF; to the end user's contact unless `to` names another address."""

    model_config = ConfigDict(extra="forbid")

    to: EmailStr | None = None


class Licensee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class DirectQuoteConversion(BaseModel):
    """COM-4: the direct quote's number and the licensee's contact (a customer of the partner)."""

    model_config = ConfigDict(extra="forbid")

    direct_quote_number: str = Field(min_length=3, max_length=30)
    licensee: Licensee


class Payment(BaseModel):
    """COM-5/BIL-5: card and PayPal are charged at checkout, to a stored payment method of the partner."""

    model_config = ConfigDict(extra="forbid")

    method: PaymentMethod
    payment_method_id: uuid.UUID | None = Field(
        default=None, description="card/paypal: a live payment method of that kind (GET /v1/payment-methods); "
                                  "postpaid: none")


class Checkout(BaseModel):
    """COM-5: place an order; distributors name the reseller of record and up to 5 additional resellers,
    a reseller linked to several distributors names the one it orders through."""

    model_config = ConfigDict(extra="forbid")

    po_number: str | None = Field(default=None, max_length=60)
    payment: Payment
    reseller_id: uuid.UUID | None = None
    additional_reseller_ids: list[uuid.UUID] = Field(default=[], description="at most 5, the first reseller first")
    distributor_id: uuid.UUID | None = Field(
        default=None, description="a reseller's provider for this order; default: its only linked distributor"
    )
    purchase_authorization_id: uuid.UUID | None = None


class NewCustomerOrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=100)
    quantity: StrictInt = Field(ge=1, le=100000)
    term: Term
    billing_frequency: BillingFrequency


class NewCustomerOrder(Checkout):
    """COM-7: the first order for an end customer without an account creates the account."""

    end_customer: CustomerCreate
    lines: list[NewCustomerOrderLine] = Field(min_length=1, max_length=100)
