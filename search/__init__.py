"""Finding postings: the query language, the filter definitions, the SQL listing search and the alert matcher."""
