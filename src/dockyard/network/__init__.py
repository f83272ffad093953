"""Container networking (L2): bridges, veths, addresses, NAT and published ports.

`backend.NetworkBackend` is the one interface the engine drives; `bridge`
is its driver. The engine keeps networks and leases in its metadata and
hands this package typed descriptions of what to make or undo.
"""
