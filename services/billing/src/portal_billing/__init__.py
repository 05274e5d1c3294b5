"""Service billing: invoices, credit notes, payments and payment methods; learns everything from events."""
