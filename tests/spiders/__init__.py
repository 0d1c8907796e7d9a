"""Tests of the spiders package: sources, settings, middlewares, every kind, the runner."""
