"""The FastAPI web app: subscribe, confirm, manage, unsubscribe, browse listings, JSON API, webhooks."""
