"""The data model; one module per concept, all re-exported here."""
from .audit import AuditLog, audit
from .campaign import Campaign, Delivery, ResponseCode, SendBatch
from .card import Card, CardVersion
from .event import CardEvent, EventSelection
from .user import ROLES, ApiToken, User
from .base import utcnow

__all__ = [
    "ROLES", "ApiToken", "AuditLog", "Campaign", "Card", "CardEvent", "CardVersion", "Delivery",
    "EventSelection", "ResponseCode", "SendBatch", "User", "audit", "utcnow",
]
