"""What a connector publishes, within the broker's limits: an answer split into parts under the
message budget, and which publish errors are worth retrying.

A producer refuses a message over its ``max_request_size`` with an error that can never succeed on
retry (``schemas.codec`` says why the budget is 512 KiB); a broker away or electing a leader is
retried.
"""

from __future__ import annotations

from aiokafka.errors import KafkaError, KafkaTimeoutError

from schemas.codec import MESSAGE_BUDGET_BYTES, TooLargeError, encode, split_by_size
from schemas.models import AgencyResponse

__all__ = ["retriable", "split_response"]


def retriable(e: BaseException) -> bool:
    """Whether a publish that raised ``e`` may succeed later (``MessageSizeTooLargeError``: never)."""
    # a send that timed out (the broker away) is worth retrying though aiokafka does not mark it so
    return isinstance(e, KafkaTimeoutError) or (isinstance(e, KafkaError) and bool(e.retriable))


def split_response(response: AgencyResponse, budget: int = MESSAGE_BUDGET_BYTES) -> list[AgencyResponse]:
    """The messages that carry ``response``: its records cut by encoded size so that each message
    stays under ``budget`` bytes; party records travel in part 0. One message when it fits.

    Raises ``TooLargeError`` when one record alone does not fit in a message.
    """
    records = response.records
    header = response.model_copy(update={"records": [], "part": 0, "parts": 1})
    overhead = len(encode(header)) + 32  # the part numbers grow by a few digits at most
    if overhead >= budget:
        raise TooLargeError(f"the answer without its records is {overhead} bytes")
    sizes = [len(r.model_dump_json().encode()) for r in records]
    chunks = split_by_size(records, sizes, budget, overhead=overhead)
    if len(chunks) == 1:
        return [response]
    return [
        header.model_copy(
            update={
                "records": chunk,
                "party_records": response.party_records if i == 0 else [],
                "part": i,
                "parts": len(chunks),
            }
        )
        for i, chunk in enumerate(chunks)
    ]
