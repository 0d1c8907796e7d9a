"""Running andon's work: the schedule's plan, the leader, crawl launchers (local child processes
or Scrapyd nodes), the slots recording what runs where, and orphans of a dead leader."""
