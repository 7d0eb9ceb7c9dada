"""Observability: JSON logs with request ids, Prometheus metrics and their collectors."""
