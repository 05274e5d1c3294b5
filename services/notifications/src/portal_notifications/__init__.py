"""Service notifications: turns the other services' events into emails and webhook deliveries."""
