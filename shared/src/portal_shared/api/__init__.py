"""The gateway's public request bodies (API.md), shared by the gateway and the owning service.

The gateway validates a body with these models before routing it, and the
service validates it again with the same models: one definition of the contract.
"""
