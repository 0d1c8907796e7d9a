"""Item pipelines that turn raw job items into clean, deduplicated, stored postings; the posting tables and the listing search."""
