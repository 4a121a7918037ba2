"""API bodies of the 终本 exit (终结本次执行程序): terminating a case for now and resuming it.

``POST /v1/cases/{case_id}/termination`` and ``POST /v1/cases/{case_id}/resumption`` take the same
body: the judge of the court who approves it and the reason, as the court records them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from .models import Visible, _Strict
from .text import visible_text

__all__ = ["TerminationCreate"]


def _visible_paragraphs(value: str) -> str:
    """Free text that may span lines, with at least one visible character."""
    visible_text(value.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    return value


Reason = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_visible_paragraphs)]


class TerminationCreate(_Strict):
    """``approved_by``: a judge id of the court (``HUB_COURT_JUDGES``); ``reason``: free text, at most
    2,000 characters (line breaks allowed), e.g. why the property investigation is exhausted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"approved_by": "judge-1", "reason": "no property found after every agency was asked"}
            ]
        }
    )

    approved_by: Visible = Field(min_length=1, max_length=100, description="a judge of the court")
    reason: Reason = Field(description="why the case is terminated for now (or resumed)")
