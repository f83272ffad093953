"""cgroup v1 (and hybrid) backend: one hierarchy per controller, a module per controller."""
