"""Adapters to the world outside the process: object storage, user sessions, and the features'
Redis cache, job queue, mail and CDN. Services call them; they know nothing about HTTP."""
