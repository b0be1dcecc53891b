"""Shared pieces of the API routes: the workflow, the live board, path parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from fuseshare.control.live import LiveBoard
from fuseshare.workflow import Workflow

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def wf(request: Request) -> Workflow:
    workflow: Workflow = request.app.state.workflow
    return workflow


def board(request: Request) -> LiveBoard:
    live: LiveBoard = request.app.state.board
    return live
