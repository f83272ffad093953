"""cgroup v2 backend: one unified tree, a module per controller."""
