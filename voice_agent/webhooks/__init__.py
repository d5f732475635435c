"""Signed webhooks: each action of the outbox POSTed to the shop, at least once.

``signature`` (stdlib only) is for receivers too; ``delivery`` holds the schedule and the
asyncio loop that ``voice-agent serve`` runs. docs/webhooks.md describes what a shop receives.
"""
