"""What happens to a campaign, told to the features above that act on it (approvals sends the
approvers their cards and the author their notices). Sent after the change is committed, except
``approval_requested`` and ``approval_withdrawn``, whose receivers write in the sender's
transaction (the caller commits)."""
from blinker import Namespace

_signals = Namespace()

#: A send waits for approval: sender the campaign; ``recipients`` (count), ``everyone``, ``actor``.
approval_requested = _signals.signal("campaign-approval-requested")
#: The approval a campaign waited for no longer counts (edited, cancelled): ``reason``, ``actor``.
approval_withdrawn = _signals.signal("campaign-approval-withdrawn")
#: A scheduled campaign's time came and it started.
started = _signals.signal("campaign-started")
#: A campaign finished: sent, partially sent or failed.
finished = _signals.signal("campaign-finished")
