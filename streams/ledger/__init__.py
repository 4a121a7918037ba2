"""The control ledger of one enforcement case, as pure functions over a JSON-able state.

It lives in the streams' ``cases`` table (keyed by case id), so every order, outcome and timer
tick of a case is applied by one agent, one at a time: several freezes submitted at once at
different banks cannot race past the cap. Modules: :mod:`.state` (the state, cap and figures),
:mod:`.orders` (a court's order), :mod:`.outcomes` (what an agency did), :mod:`.timers` (time).

Rules (DOMAIN.md):

- **No over-securing.** ``secured`` = amounts frozen (or asked, while pending) + stated value of
  seized assets (and of frozen stakes), over the case's orders in effect or pending. A waiting
  control secures nothing until it takes effect. A new freeze or seizure is refused when it would
  take ``secured`` above ``cap`` = amount owed + costs − deducted.
- **Indivisible assets** (real estate, land use right, vehicle, equity) worth more than the
  remainder may be seized (frozen) whole only when nothing divisible would do: when the deposits
  found for the case and not yet controlled would cover the remainder, the order is refused naming
  them; when allowed, its ``reason`` says why, and keeps saying it after the agency answers.
- **Over-secured after a promotion.** When a waiting control takes effect and the case is then
  secured beyond the cap, the court gets ``over_secured`` on the control to release (excess must be
  released): the one securing least whose release ends the excess, else the one securing most.
- **Effective time** is the agency's registration time; a waiting control has none until promoted.
- **Periods** are capped by asset kind (deposit 1 year, vehicle 2, real estate / land / equity 3);
  a renewal runs on from the old expiry, capped by the agency so that no more than the legal
  maximum lies ahead of its today.
- **Lapse and promotion.** The agency lapses controls by itself at the end of their period. A
  waiting order keeps the time the control ahead ends (``check_at``, from the agency's answer);
  then the hub asks the agency what the control is now and tells the court ``promoted`` when it
  took effect (at the lapse instant), or asks again when the one ahead was renewed.
- **Expiry.** A reminder (``expiring``) goes to the court ``reminder_days`` before expiry; at expiry
  the hub sends the agency an expiry notice (the agency decides; it has lapsed the control itself),
  marks the control ``expired``, and the agency's next waiting control is promoted (its court told).
- **Deduction** moves frozen money to the case's fund ledger, lowers what is owed, and is applied
  once per order however often its messages are delivered (outcomes are applied once per key).
"""

from .orders import accept_order, idle_deposits, refuse
from .outcomes import apply_outcome
from .state import MAX_PERIOD_DAYS, excess_to_release, new_ledger, remaining, secured
from .timers import apply_tick, due_ticks

__all__ = [
    "MAX_PERIOD_DAYS",
    "accept_order",
    "apply_outcome",
    "apply_tick",
    "due_ticks",
    "excess_to_release",
    "idle_deposits",
    "new_ledger",
    "refuse",
    "remaining",
    "secured",
]
