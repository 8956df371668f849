"""Routes for the national rules: dispatch objections and their review, negotiation of the lead and
co-handlers, and the dispatch catalogue's editions (thin: body → service → JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from routing.api.deps import HotDep, ReaderDep, SessionDep, require, unit_of
from routing.api.orders import STAFF, _checked
from routing.api.shapes import NegotiationBody, ObjectionRulingBody, ReturnBody
from routing.lifecycle import Negotiate, ObjectToDispatch, RuleOnObjection
from routing.orm import DispatchCatalogue

router = APIRouter(prefix="/api", tags=["dispatch rules"])


@router.post("/work-orders/{number}/objection")
def object_to_dispatch(number: str, body: ReturnBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    """派单异议 of an assisting unit, within the objection window (the lead unit returns the order)."""
    client = reader.client
    actor = require(client, "department")
    unit = unit_of(client, body.unit_code)
    _checked(hot.work_orders, client, number)
    return reader.order(
        hot.work_orders.handle(ObjectToDispatch(number, unit, body.reason, body.proposed_unit), actor)
    )


@router.post("/work-orders/{number}/objection/ruling")
def rule_on_objection(
    number: str, body: ObjectionRulingBody, hot: HotDep, reader: ReaderDep
) -> dict[str, Any]:
    actor = require(reader.client, "supervisor", "admin")
    return reader.order(
        hot.work_orders.handle(
            RuleOnObjection(number, body.unit_code, body.approve, body.note, body.replacement), actor
        )
    )


@router.post("/work-orders/{number}/negotiation")
def negotiate(number: str, body: NegotiationBody, hot: HotDep, reader: ReaderDep) -> dict[str, Any]:
    """协商: the hotline records the units it consulted and the agreed lead and co-handlers, then dispatches."""
    actor = require(reader.client, "agent", "supervisor", "admin")
    return reader.order(
        hot.work_orders.handle(Negotiate(number, body.participants, body.targets(), body.note), actor)
    )


@router.get("/catalogues")
def catalogues(session: SessionDep, hot: HotDep, reader: ReaderDep) -> list[dict[str, Any]]:
    """The dispatch catalogue's editions, oldest first, and which one is in force now."""
    require(reader.client, *STAFF, "department", "department_head", "qa")
    rows = session.scalars(select(DispatchCatalogue).order_by(DispatchCatalogue.effective_from)).all()
    current = hot.work_orders.edition_at(hot.clock.now())
    return [
        {
            "version": r.version,
            "effective_from": r.effective_from,
            "loaded_at": r.loaded_at,
            "loaded_by": r.loaded_by,
            "note": r.note,
            "in_force": current is not None and current.id == r.id,
            "categories": len(r.entries),
            "keyword_rules": len(r.rules),
        }
        for r in rows
    ]
