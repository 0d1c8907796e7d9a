"""Subscribers, saved searches, the query language, the matcher, digests, rendering and mailers."""
