"""The engine (L3): containers and volumes as a whole, over the store and an OCI runtime.

No daemon: every ``dockyard`` process opens the same SQLite database and
works under its transactions and the per-container locks; each running
container is held by a small monitor process (``engine/monitor``), never by
a Python interpreter. `engine.Engine` is the entry; each verb is a module.
"""
