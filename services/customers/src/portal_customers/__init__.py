"""Service customers: partners, customers, relationships, invitations and reseller changes."""
