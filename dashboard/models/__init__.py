"""The data model; one module per concept, all re-exported here."""
from .approval import Approval, ApprovalCard, Notice
from .audience import Audience
from .audit import AuditLog, audit
from .campaign import Campaign, Delivery, ResponseCode, SendBatch
from .card import Card, CardVersion
from .conversation import AppMenu, ConversationMessage, ReplyCampaign, ReplyRule
from .directory import (
    DirectoryChange, DirectoryDepartment, DirectoryStamp, DirectoryState, DirectoryTag, DirectoryUser,
)
from .event import CardEvent, EventSelection
from .image import Image
from .login import LoginCounter, UserSession
from .rollup import CurrentAnswer, EventCount, OptionTally, Respondent, RollupState
from .user import GRANT_KINDS, ROLE_RANK, ROLES, ApiToken, RoleGrant, User
from .base import utcnow
from .callback_log import CALLBACK_OUTCOMES, CallbackLog
from .shared import SharedValue

__all__ = [
    "ROLES", "Approval", "ApprovalCard", "Notice", "ApiToken", "AppMenu", "Audience", "ConversationMessage", "ReplyCampaign", "ReplyRule", "AuditLog", "Campaign", "Card", "CardEvent", "CardVersion",
    "Delivery", "DirectoryChange", "DirectoryDepartment", "DirectoryStamp", "DirectoryState",
    "DirectoryTag", "DirectoryUser", "EventSelection", "Image",
    "ResponseCode", "SendBatch", "User", "audit", "utcnow",
    "CurrentAnswer", "EventCount", "OptionTally", "Respondent", "RollupState",
    "CALLBACK_OUTCOMES", "CallbackLog", "SharedValue", "LoginCounter", "UserSession",
    "GRANT_KINDS", "ROLE_RANK", "RoleGrant",
]

from .sandbox import (  # noqa: E402  (the sandbox's own tables, prefixed sandbox_)
    SandboxApiCall, SandboxAuthCode, SandboxCallback, SandboxDepartment, SandboxEmployee,
    SandboxInboxCard, SandboxMessage, SandboxImage, SandboxResponseCode, SandboxSettings, SandboxTag, SandboxToken,
)

__all__ += [
    "SandboxApiCall", "SandboxAuthCode", "SandboxCallback", "SandboxDepartment", "SandboxEmployee",
    "SandboxImage", "SandboxInboxCard", "SandboxMessage", "SandboxResponseCode", "SandboxSettings", "SandboxTag", "SandboxToken",
]
