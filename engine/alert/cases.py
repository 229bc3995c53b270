"""Cases and suppression: which entity an alert is about, and one open alert per
entity and typology within a window.

*Subject.* Every alert of the decide hop names the entity it is about, as the link
graph's entity id (so ``gatehound network SUBJECT`` shows its neighbourhood): a
traveller's person (name and date of birth; the travel document without a birth
date), a ship (its IMO, from the report or from an earlier voyage report of the
same MMSI, as the report was first judged, so a redelivery keeps it; the MMSI until
one is known), and for goods, the ship that carries them at sea (so a ship's own
anomalies and the consignments it carries meet in one case) or else the consignee.
No name, number or date is in it: ids are hashes.

*Case.* ``case_id`` is derived from the subject alone: alerts on one entity, from any
mode, any partition or any worker, join one case, and a replay gives the same ids.
Link and network alerts are their own cases (their key is the shared identifier).

*Suppression.* An alert whose subject already had an alert of the same typology
less than ``scoring.suppress_hours`` earlier (event time) is not sent: its score
record says which alert covers it (``suppressed_by``) and takes its case. The state lives with the
partition, so it covers what a partition keeps together: a ship's reports, and a
traveller's booking and manifest records of one flight (the same alert twice, once
per feed). An event delivered again keeps its own alert id and is never suppressed
by itself.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime

from engine.enrich.join import join_key
from engine.link.identifiers import code_key, organisation_key, person_key
from schemas import Event, FreightEvent, PassengerEvent, Record, VesselEvent, stable_id


class OpenAlert(Record):
    """The latest alert of a subject and typology, for suppression."""

    alert_id: str
    at: AwareDatetime
    case_id: str


def same_alert_key(event: Event, subject: str) -> str:
    """What suppression compares: the subject; for a traveller, the traveller on the
    flight (a booking's record names no birth date, so its subject may differ from the
    manifest's, yet both are one traveller)."""
    if isinstance(event, PassengerEvent):
        return stable_id("trip", join_key(event))
    return subject


def subject_of(event: Event, known_imo: str | None = None) -> str:
    """The entity id an alert on this event is about (see the module docstring)."""
    if isinstance(event, PassengerEvent):
        t = event.traveller
        birth = t.date_of_birth.isoformat() if t.date_of_birth else None
        person = person_key(t.given_names, t.surname, birth)
        if person:
            return stable_id("person", person)
        number = code_key(event.document.number) if event.document else None
        if number and event.document:
            return stable_id("document", f"{number}|{event.document.issuing_state}")
        return event.event_id
    if isinstance(event, VesselEvent):
        imo = event.imo or known_imo
        return stable_id("vessel", imo) if imo else stable_id("mmsi", event.mmsi)
    assert isinstance(event, FreightEvent)
    if event.mode_of_transport == "sea" and event.means.vessel_imo:
        return stable_id("vessel", event.means.vessel_imo)
    c = event.consignee
    organisation = organisation_key(c.name, c.country, c.trader_id)
    return stable_id("organisation", organisation) if organisation else event.event_id


def case_id_of(subject: str) -> str:
    """One case per subject."""
    return stable_id("case", subject)


def covered_by(previous: OpenAlert | None, alert_id: str, at: datetime, window_hours: float) -> str | None:
    """The earlier alert that covers this one, if it is within the window; else None."""
    if previous is None or previous.alert_id == alert_id:
        return None
    hours = (at - previous.at).total_seconds() / 3600
    return previous.alert_id if 0 <= hours < window_hours else None
