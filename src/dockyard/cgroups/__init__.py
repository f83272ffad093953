"""Control groups: one ``CgroupManager`` interface (manager.py), v1 and v2 backends.

Kept empty on purpose: ``import dockyard.cgroups.manager`` loads only what it needs,
and each backend imports its controller modules only for the resources it is given.
"""
