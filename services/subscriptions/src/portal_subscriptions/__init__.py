"""Service subscriptions: catalog, carts, quotes, orders, subscriptions, licenses and renewals."""
