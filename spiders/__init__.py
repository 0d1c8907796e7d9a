"""Scrapy spiders, one per source kind, their items, settings and the crawl runner."""
