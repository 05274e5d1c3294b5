"""The gateway: identity (users, API keys, roles, tokens), tenancy and routing; the only public entry."""
