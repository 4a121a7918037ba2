"""How the stream agents send and dead-letter: every event decoded by the schema codec, every
failure recorded on the dead-letter topic (cut to a size that always fits), the next event served.

faust acknowledges an event whose handler raised and never processes it again (ARCHITECTURE.md),
so ``each`` catches around every event and dead-letters it with the stage and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import faust
from aiokafka.errors import KafkaError, KafkaTimeoutError
from faust.exceptions import ProducerSendError
from faust.types import EventT
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

from hub.masking import mask_text
from schemas.codec import CodecError, dead_letter, decode, encode

__all__ = ["PUBLISH_RETRY_SECONDS", "dead_letter_event", "each", "retriable", "send_acked"]

log = logging.getLogger(__name__)

# How long a send is retried while the broker's error is retriable (it is away, or electing a leader).
PUBLISH_RETRY_SECONDS = 30.0


def retriable(e: BaseException) -> bool:
    """Whether a send that raised ``e`` may succeed later (faust's ``ProducerSendError`` unwrapped)."""
    if isinstance(e, ProducerSendError) and e.__cause__ is not None:  # faust wraps aiokafka's error
        e = e.__cause__
    return isinstance(e, KafkaTimeoutError) or (isinstance(e, KafkaError) and bool(e.retriable))


async def send_acked(
    topic: faust.TopicT, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None = None
) -> None:
    """Hand the message to the producer, retrying retriable errors for up to
    ``PUBLISH_RETRY_SECONDS``; anything else is raised at once. A message over the producer's
    ``max_request_size`` is refused here, before anything is sent (it could never succeed); once
    accepted, the producer delivers it (aiokafka retries the broker's transient errors itself).
    ``headers``: the message's Kafka headers (``[(name, value)]``; the seal of an agency message).

    The delivery future is not awaited inside an agent: on the embedded broker, agents awaiting it
    stalled for good (measured: a fresh hub's first inquiries settled ``partial`` with six of seven
    agencies silent; without the wait, the same tests pass).
    """
    try:  # the first try without a retrying loop (built per message, it cost real CPU)
        await topic.send(key=key, value=value, headers=headers)
        return
    except Exception as e:
        if not retriable(e):
            raise
        first: BaseException | None = e
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(retriable),
        wait=wait_exponential_jitter(multiplier=0.1, max=2.0),
        stop=stop_after_delay(PUBLISH_RETRY_SECONDS),
        reraise=True,
    ):
        with attempt:
            if first is not None:  # replayed as the loop's first attempt
                replay, first = first, None
                raise replay
            await topic.send(key=key, value=value, headers=headers)


async def dead_letter_event(
    dead_letters: faust.TopicT, event: EventT, stage: str, error: BaseException
) -> None:
    """Send the event's message to ``dead_letters`` with its topic, partition, offset, ``stage`` and
    the masked reason; the value is cut to ``DEAD_LETTER_VALUE_BYTES`` (with its size), so the dead
    letter of a 900 kB message fits. Never raises: a refused dead letter is logged with its place."""
    msg = event.message
    letter = dead_letter(
        topic=msg.topic,
        value=msg.value,
        stage=stage,
        error=error,
        partition=msg.partition,
        offset=msg.offset,
        key=msg.key,
    )
    letter.reason = mask_text(letter.reason)
    log.warning(
        "dead-lettering %s[%s]@%s (%s bytes) at %s: %s",
        msg.topic,
        msg.partition,
        msg.offset,
        letter.value_size,
        stage,
        letter.reason,
    )
    try:
        await send_acked(dead_letters, msg.key, encode(letter))
    except Exception:  # the broker refuses even the dead letter: keep serving, say where it was
        log.exception("could not dead-letter %s[%s]@%s", msg.topic, msg.partition, msg.offset)


async def each(
    stream: Any, stage: str, handle: Callable[[Any], Awaitable[None]], dead_letters: faust.TopicT
) -> AsyncIterator[None]:
    """Decode every event of ``stream`` and ``handle`` it; dead-letter what cannot be decoded
    (stage ``<stage>.decode``) or handled (``<stage>``); yield once per event, then serve the next."""
    async for event in stream.events():
        try:
            message = decode(event.message.topic, event.value)
        except CodecError as e:
            await dead_letter_event(dead_letters, event, f"{stage}.decode", e)
            yield None
            continue
        try:
            await handle(message)
        except Exception as e:  # faust would ack and drop it: record it instead
            log.exception("%s failed", stage)
            await dead_letter_event(dead_letters, event, stage, e)
        yield None
