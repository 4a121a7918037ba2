"""Each registry's own register of controls (freezes, seizures) per asset, and the rules it enforces.

The registry is the agency: it decides what a control order did and answers with that. Shared by
every registry module (each one speaks its own API shape over it). Modules: :mod:`.types` (orders,
controls, decisions, legal periods), :mod:`.decide` (the rules), :mod:`.register` (the register:
lookup, seeding, lapse, idempotency, lock), :mod:`.persist` (its SQLite file).

- freeze (deposit, equity, securities) / seize (real estate, land use right, vehicle): the action
  must fit the asset kind. Effective time is when the registry registers it (its clock ``now``); the
  period is the asked ``period_days`` capped at the legal maximum of the kind (``MAX_PERIOD_DAYS``).
- whole-asset kinds: the first control is in effect (position 0); later ones wait (position 1, 2, ...
  in registration order) and have no effective/expiry time until they are promoted. A waiting
  decision says when the control ahead ends (``ahead_expires_at``).
- divisible kinds (``schemas.agencies.KIND_RULES``: deposits, and securities accounts by market
  value): ``available = balance - sum frozen by controls in effect``. A freeze blocks
  ``min(amount, available)``: ``effective``, ``partial`` (the rest is not queued) or, when nothing is
  available, ``waiting`` for the full amount. A freeze never blocks more than asked.
- equity: a freeze freezes subscribed capital (出资额) of the investor's stake: the amount asked (at
  most the stake's subscribed capital as commerce recorded it, else refused), or all of it when no
  amount is asked; the amount controlled is that capital.
- lapse (DOMAIN.md rule 2a): a control whose period ended without renewal has lapsed by itself, every
  court's control alike (seeded controls end at their ``expires_at`` or registration + the legal
  period of the kind). The register applies it lazily by its clock whenever an asset is read or acted
  on: each lapse, in order of expiry, promotes the queue at the lapse instant (the old control's
  ``expires_at``), not when someone happened to look. Lapsed controls stay listed as ``expired``.
- deduct (deposits): against the court's own freeze in effect, at most its frozen amount; moves
  the money out of the account (balance and frozen amount drop; at 0 the freeze ends as executed).
- renew: only a control in effect whose period has not ended; new expiry = old expiry + period, capped
  so that no more than the legal maximum lies ahead of the registry's ``now`` (the reason says so).
- release / expire: end the control; if it was in effect the queue is promoted (non-deposits: the
  first waiting control takes effect now, its own period starting now; deposits: waiting freezes
  in order while money is available, partially if need be). ``expire`` is refused before the
  control's expiry by the registry clock, and repeated it is a no-op; on a control that lapsed by
  itself it reports what the lapse promoted (once).
- status: what one of the court's controls is now (effective, waiting with ``ahead_expires_at``,
  expired, released, deducted); a read, never remembered.
- idempotency: every decision is remembered by ``order_id``; a repeat returns it unchanged.
- a queue never loses its turn: before a new freeze/seizure is registered, waiting controls that
  could take effect (nothing in effect; or money available on a deposit; only seed data can leave
  that state) are promoted first and reported in that decision's ``promoted``.
- an order naming a reference under which several records are registered (equity: one company's
  credit code for each of its shareholders) is refused unless the order names the owner's identifier
  as recorded (commerce: ``investorCertNo``): otherwise it does not say whose stake.

Controls seeded from the population and fixture lines (other courts') are copied into the
register the first time their asset is touched; the records themselves are never mutated, so two
apps over the same data keep separate registers.
"""

from .register import ControlRegister
from .types import (
    MAX_PERIOD_DAYS,
    REGISTER_ACTION,
    Decision,
    Order,
    Promoted,
    RegControl,
    UnknownAsset,
)

__all__ = [
    "MAX_PERIOD_DAYS",
    "REGISTER_ACTION",
    "ControlRegister",
    "Decision",
    "Order",
    "Promoted",
    "RegControl",
    "UnknownAsset",
]
