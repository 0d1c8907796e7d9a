"""`andon demo`: the whole flow offline — a loopback server of job-board responses, a fresh database, crawls, subscribers, digests."""
