"""Who is told what, the texts they read, and when reminders and deliveries fall due.

Pure rules: no I/O. Texts are Norwegian (bokmål): users read them.

Two kinds of text (domain.md, "Identifiers and data"):
- the in-app notice names a case reference and perhaps a date, never a person, an identity
  number or a health detail;
- what leaves the system (e-mail, SMS, webhook) says only that something new is waiting and
  where to log in: not even the case reference or what kind of notice it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from shared.clock import OSLO
from shared.contracts.notifications import LeadTimes, QuietHours
from shared.printing import norwegian_date


class NoticeKind(StrEnum):
    """What a notice is about."""

    COORDINATOR_APPOINTED = "coordinator_appointed"
    PLAN_CREATED = "plan_created"
    CONSENT_RENEWAL_COORDINATOR = "consent_renewal_coordinator"
    CONSENT_RENEWAL_PERSON = "consent_renewal_person"
    CONSENT_RENEWAL_DUE = "consent_renewal_due"
    CASE_NEEDS_COORDINATOR = "case_needs_coordinator"
    CASE_STILL_WITHOUT_COORDINATOR = "case_still_without_coordinator"
    COORDINATOR_OVER_LIMIT = "coordinator_over_limit"
    DUTY_OVERDUE = "duty_overdue"
    EVALUATION_DUE = "evaluation_due"
    EVALUATION_OVERDUE = "evaluation_overdue"
    REVISION_DUE = "revision_due"
    REVISION_OVERDUE = "revision_overdue"
    MEASURE_DEADLINE_DUE = "measure_deadline_due"
    MEASURE_DEADLINE_PASSED = "measure_deadline_passed"
    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_REMINDER = "meeting_reminder"
    MEETING_CANCELLED = "meeting_cancelled"
    APPEAL_DEADLINE_DUE = "appeal_deadline_due"
    APPEAL_DEADLINE_PASSED = "appeal_deadline_passed"
    APPEAL_REGISTERED = "appeal_registered"
    HANDOVER_PLANNED = "handover_planned"
    HANDOVER_COMPLETED = "handover_completed"
    NEW_COORDINATOR_FOR_PERSON = "new_coordinator_for_person"
    UNREAD_ESCALATION = "unread_escalation"
    XORG_MESSAGE_REFUSED = "xorg_message_refused"
    XORG_RECEIPT_OVERDUE = "xorg_receipt_overdue"
    XORG_HANDOVER_PROPOSED = "xorg_handover_proposed"
    XORG_HANDOVER_ANSWERED = "xorg_handover_answered"


class Audience(StrEnum):
    """Who may be told."""

    COORDINATOR = "coordinator"  # the case's coordinator now
    KE = "ke"  # the KE's shared inbox
    MEMBERS = "members"  # the responsibility group's members (services)
    RESPONSIBLE = "responsible"  # whoever a measure names as responsible (R16)
    PERSON = "person"  # the person themself (no consent needed to tell them)
    NEXT_OF_KIN = "next_of_kin"  # relatives, only within the person's consent (gate, R8)
    NAMED = "named"  # the recipients the event names (e.g. a coordinator taking over)


# Who is told what, per notice kind (README: "Who is told what").
AUDIENCES: dict[NoticeKind, tuple[Audience, ...]] = {
    NoticeKind.COORDINATOR_APPOINTED: (Audience.NAMED,),
    NoticeKind.PLAN_CREATED: (Audience.COORDINATOR,),
    NoticeKind.CONSENT_RENEWAL_COORDINATOR: (Audience.COORDINATOR,),
    NoticeKind.CONSENT_RENEWAL_PERSON: (Audience.PERSON,),
    NoticeKind.CONSENT_RENEWAL_DUE: (Audience.COORDINATOR, Audience.PERSON),
    NoticeKind.CASE_NEEDS_COORDINATOR: (Audience.KE,),
    NoticeKind.CASE_STILL_WITHOUT_COORDINATOR: (Audience.KE,),
    NoticeKind.COORDINATOR_OVER_LIMIT: (Audience.KE, Audience.NAMED),
    NoticeKind.DUTY_OVERDUE: (Audience.COORDINATOR,),  # the KE when nobody coordinates
    NoticeKind.EVALUATION_DUE: (Audience.COORDINATOR,),
    NoticeKind.EVALUATION_OVERDUE: (Audience.COORDINATOR,),
    NoticeKind.REVISION_DUE: (Audience.COORDINATOR,),
    NoticeKind.REVISION_OVERDUE: (Audience.COORDINATOR,),
    NoticeKind.MEASURE_DEADLINE_DUE: (Audience.COORDINATOR, Audience.RESPONSIBLE),
    NoticeKind.MEASURE_DEADLINE_PASSED: (Audience.COORDINATOR, Audience.RESPONSIBLE),
    NoticeKind.MEETING_SCHEDULED: (Audience.MEMBERS, Audience.PERSON, Audience.NEXT_OF_KIN),
    NoticeKind.MEETING_REMINDER: (Audience.MEMBERS, Audience.PERSON, Audience.NEXT_OF_KIN),
    NoticeKind.MEETING_CANCELLED: (Audience.MEMBERS, Audience.PERSON, Audience.NEXT_OF_KIN),
    NoticeKind.APPEAL_DEADLINE_DUE: (Audience.KE,),
    NoticeKind.APPEAL_DEADLINE_PASSED: (Audience.KE,),
    NoticeKind.APPEAL_REGISTERED: (Audience.KE,),
    NoticeKind.HANDOVER_PLANNED: (Audience.NAMED,),
    NoticeKind.HANDOVER_COMPLETED: (Audience.NAMED,),
    NoticeKind.NEW_COORDINATOR_FOR_PERSON: (Audience.PERSON,),
    NoticeKind.UNREAD_ESCALATION: (Audience.NAMED,),
    # Federation (R17): what another organisation did with what was sent from here. The KE
    # handles the case links; this side's coordinator is known there only by staff id.
    NoticeKind.XORG_MESSAGE_REFUSED: (Audience.KE,),
    NoticeKind.XORG_RECEIPT_OVERDUE: (Audience.KE,),
    NoticeKind.XORG_HANDOVER_PROPOSED: (Audience.KE,),
    NoticeKind.XORG_HANDOVER_ANSWERED: (Audience.KE,),
}

# Notices that must not lie unread: the KE sees them in "unread important", and they
# escalate after the org's escalation time (R10-R12, R3).
IMPORTANT: frozenset[NoticeKind] = frozenset(
    {
        NoticeKind.CASE_NEEDS_COORDINATOR,
        NoticeKind.CASE_STILL_WITHOUT_COORDINATOR,
        NoticeKind.COORDINATOR_OVER_LIMIT,
        NoticeKind.DUTY_OVERDUE,
        NoticeKind.APPEAL_REGISTERED,
        NoticeKind.CONSENT_RENEWAL_COORDINATOR,
        NoticeKind.XORG_MESSAGE_REFUSED,
        NoticeKind.XORG_RECEIPT_OVERDUE,
        NoticeKind.XORG_HANDOVER_PROPOSED,
    }
)

TEMPLATES: dict[NoticeKind, str] = {
    NoticeKind.COORDINATOR_APPOINTED: (
        "Du er oppnevnt som koordinator i sak {case_ref}. Logg inn i kenett for å se saken."
    ),
    NoticeKind.PLAN_CREATED: (
        "Et utkast til individuell plan er opprettet i sak {case_ref}. "
        "Logg inn i kenett for å arbeide videre med planen."
    ),
    NoticeKind.CONSENT_RENEWAL_COORDINATOR: (
        "Samtykket i sak {case_ref} må fornyes: det ble gitt av foreldrene og gjelder ikke "
        "lenger etter 16-årsdagen. Logg inn i kenett for å se saken."
    ),
    NoticeKind.CONSENT_RENEWAL_PERSON: (
        "Fra du fyller 16 år bestemmer du selv over planen og koordinatoren din. "
        "Samtykket i sak {case_ref} må derfor gis av deg. Logg inn i kenett for å se saken."
    ),
    NoticeKind.CONSENT_RENEWAL_DUE: (
        "Samtykket i sak {case_ref} er gitt av foreldrene og må fornyes av den unge selv "
        "innen {on}, når hen fyller 16 år. Logg inn i kenett for å se saken."
    ),
    NoticeKind.CASE_NEEDS_COORDINATOR: (
        "Sak {case_ref} trenger koordinator. Logg inn i kenett og se listen over saker som "
        "venter på koordinator."
    ),
    NoticeKind.CASE_STILL_WITHOUT_COORDINATOR: (
        "Sak {case_ref} har ventet på koordinator siden {on}. Logg inn i kenett og oppnevn "
        "en koordinator."
    ),
    NoticeKind.COORDINATOR_OVER_LIMIT: (
        "En koordinator har nå flere saker enn anbefalt ({count}). Logg inn i kenett for å "
        "se saksmengden."
    ),
    NoticeKind.DUTY_OVERDUE: (
        "En oppgave som koordinator i sak {case_ref} har passert fristen. "
        "Logg inn i kenett for å se oppgaven."
    ),
    NoticeKind.EVALUATION_DUE: (
        "Et mål eller tiltak i planen i sak {case_ref} skal evalueres innen {on}. "
        "Logg inn i kenett for å se planen."
    ),
    NoticeKind.EVALUATION_OVERDUE: (
        "Et mål eller tiltak i planen i sak {case_ref} skulle vært evaluert. "
        "Logg inn i kenett for å se planen."
    ),
    NoticeKind.REVISION_DUE: (
        "Planen i sak {case_ref} skal revideres innen {on}. Logg inn i kenett for å se planen."
    ),
    NoticeKind.REVISION_OVERDUE: (
        "Planen i sak {case_ref} skulle vært revidert. Logg inn i kenett for å se planen."
    ),
    NoticeKind.MEASURE_DEADLINE_DUE: (
        "Et tiltak i planen i sak {case_ref} har frist {on}. Logg inn i kenett for å se tiltaket."
    ),
    NoticeKind.MEASURE_DEADLINE_PASSED: (
        "Fristen for et tiltak i planen i sak {case_ref} gikk ut {on}. "
        "Logg inn i kenett for å se tiltaket."
    ),
    NoticeKind.MEETING_SCHEDULED: (
        "Det er kalt inn til ansvarsgruppemøte i sak {case_ref}. "
        "Logg inn i kenett for å se tid og sted."
    ),
    NoticeKind.MEETING_REMINDER: (
        "Påminnelse: ansvarsgruppemøte i sak {case_ref} {on}. "
        "Logg inn i kenett for å se tid og sted."
    ),
    NoticeKind.MEETING_CANCELLED: (
        "Et ansvarsgruppemøte i sak {case_ref} er avlyst. Logg inn i kenett for å se mer."
    ),
    NoticeKind.APPEAL_DEADLINE_DUE: (
        "Klagefristen for vedtaket om individuell plan i sak {case_ref} går ut {on}. "
        "Logg inn i kenett for å se vedtaket."
    ),
    NoticeKind.APPEAL_DEADLINE_PASSED: (
        "Klagefristen for vedtaket om individuell plan i sak {case_ref} gikk ut {on}, og ingen "
        "klage er registrert. Logg inn i kenett for å se vedtaket."
    ),
    NoticeKind.APPEAL_REGISTERED: (
        "Det er kommet en klage på vedtaket i sak {case_ref}. Vurder vedtaket på nytt, og send "
        "klagen til Statsforvalteren om det ikke endres. Logg inn i kenett for å se klagen."
    ),
    NoticeKind.HANDOVER_PLANNED: (
        "Koordinatoransvaret i sak {case_ref} skal overføres, med overlapp fra {on}. "
        "Logg inn i kenett for å se overføringen."
    ),
    NoticeKind.HANDOVER_COMPLETED: (
        "Overføringen av koordinatoransvaret i sak {case_ref} er fullført. "
        "Logg inn i kenett for å se saken."
    ),
    NoticeKind.NEW_COORDINATOR_FOR_PERSON: (
        "Du får ny koordinator i sak {case_ref}. Den gamle og den nye koordinatoren arbeider "
        "sammen en tid fra {on}. Logg inn i kenett for å se mer."
    ),
    NoticeKind.UNREAD_ESCALATION: (
        "Et viktig varsel i sak {case_ref} er ikke lest etter {count} timer. "
        "Logg inn i kenett og se uleste viktige varsler."
    ),
    # Federation's events name no case reference, and the other organisation's code is not a
    # parameter a notice may carry: these say what happened, and where to look.
    NoticeKind.XORG_MESSAGE_REFUSED: (
        "En melding til en annen virksomhet ble avvist. Logg inn i kenett for å se årsaken "
        "(kenett federation messages)."
    ),
    NoticeKind.XORG_RECEIPT_OVERDUE: (
        "En melding sendt til en annen virksomhet {on} har ikke fått kvittering i tide. "
        "Logg inn i kenett for å se meldingen (kenett federation messages)."
    ),
    NoticeKind.XORG_HANDOVER_PROPOSED: (
        "En annen virksomhet foreslår at dere overtar koordineringen i en sak fra {on}. "
        "Logg inn i kenett for å svare på forslaget (kenett federation messages)."
    ),
    NoticeKind.XORG_HANDOVER_ANSWERED: (
        "En annen virksomhet har svart på forslaget om å overføre koordineringen i en sak. "
        "Logg inn i kenett for å se svaret (kenett federation links)."
    ),
}

# What leaves the system: the same few words whatever the notice is about. The subject and
# text may use only {login_url} and {count}.
EXTERNAL_SUBJECT = "Ny melding i kenett"
EXTERNAL_TEXT = "Du har en ny melding i kenett. Logg inn for å lese den: {login_url}"
DIGEST_SUBJECT = "Nye meldinger i kenett"
DIGEST_TEXT = "Du har {count} nye meldinger i kenett. Logg inn for å lese dem: {login_url}"
EXTERNAL_FIELDS = frozenset({"login_url", "count"})
NOTICE_FIELDS = frozenset({"case_ref", "on", "count"})

_CASE_REF = re.compile(r"^\d{4}-\d{6}$")
_ELEVEN_DIGITS = re.compile(r"\d{11}")
_SIX_DIGITS = re.compile(r"(?<![\d-])\d{6}(?!\d)")


class UnsafeNotice(ValueError):
    """A text would carry something that is not allowed in a notice."""


class TemplateFailed(ValueError):
    """A template could not be rendered (a placeholder without a value, a broken brace)."""


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _format(template: str, values: Mapping[str, object], allowed: frozenset[str]) -> str:
    try:
        names = _fields(template)
    except ValueError as exc:
        raise TemplateFailed(f"the template is malformed ({exc})") from None
    unknown = names - allowed
    if unknown:
        raise TemplateFailed(f"the template uses fields it may not: {', '.join(sorted(unknown))}")
    missing = names - values.keys()
    if missing:
        raise TemplateFailed(f"the template needs {', '.join(sorted(missing))}, not given")
    try:
        return template.format(**{k: values[k] for k in names})
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise TemplateFailed(f"the template could not be filled ({type(exc).__name__})") from None


def render(
    kind: NoticeKind,
    case_ref: str | None,
    on: date | None = None,
    count: int | None = None,
    templates: Mapping[NoticeKind, str] = TEMPLATES,
) -> str:
    """The in-app text for ``kind``. Its only parameters are a case reference, a date and a
    number: nothing else can get in. Raises UnsafeNotice or TemplateFailed."""
    values: dict[str, object] = {}
    if case_ref is not None:
        if not _CASE_REF.match(case_ref):
            raise UnsafeNotice("a notice may carry only a case reference (YYYY-NNNNNN)")
        values["case_ref"] = case_ref
    if on is not None:
        values["on"] = norwegian_date(on)
    if count is not None:
        values["count"] = count
    template = templates.get(kind)
    if template is None:
        raise TemplateFailed(f"no template for {kind}")
    text = _format(template, values, NOTICE_FIELDS)
    if _ELEVEN_DIGITS.search(text):
        raise UnsafeNotice("a notice text must not contain an identity number")
    return text


def render_external(login_url: str, count: int = 1) -> tuple[str, str]:
    """Subject and text of what leaves the system: a message waits, and where to log in."""
    if count > 1:
        subject, text = DIGEST_SUBJECT, DIGEST_TEXT
    else:
        subject, text = EXTERNAL_SUBJECT, EXTERNAL_TEXT
    values = {"login_url": login_url, "count": count}
    out = _format(subject, values, EXTERNAL_FIELDS), _format(text, values, EXTERNAL_FIELDS)
    for part in out:
        if _ELEVEN_DIGITS.search(part) or _SIX_DIGITS.search(part):
            raise UnsafeNotice("an outgoing text must not contain an identity number or a date")
    return out


# --- Reminders --------------------------------------------------------------------------------


class ReminderKind(StrEnum):
    """What a reminder on the clock is about."""

    EVALUATION = "evaluation"  # R16: before the date (planning announces the passed date)
    REVISION = "revision"  # R14 point 7: before the plan's revision date (likewise)
    MEASURE_DEADLINE = "measure_deadline"  # before and at the deadline
    MEETING = "meeting"  # before a responsibility-group meeting
    CONSENT_RENEWAL = "consent_renewal"  # R6: before the 16th birthday, parents' consent
    WITHOUT_COORDINATOR = "without_coordinator"  # R11: still no coordinator after a while
    APPEAL_DEADLINE = "appeal_deadline"  # R3: before and at the appeal deadline


class Stage(StrEnum):
    BEFORE = "before"
    AT = "at"


@dataclass(frozen=True)
class ReminderRule:
    """When a reminder fires, relative to its due time, and what notice it makes."""

    stage: Stage
    notice: NoticeKind


RULES: dict[ReminderKind, tuple[ReminderRule, ...]] = {
    ReminderKind.EVALUATION: (ReminderRule(Stage.BEFORE, NoticeKind.EVALUATION_DUE),),
    ReminderKind.REVISION: (ReminderRule(Stage.BEFORE, NoticeKind.REVISION_DUE),),
    ReminderKind.MEASURE_DEADLINE: (
        ReminderRule(Stage.BEFORE, NoticeKind.MEASURE_DEADLINE_DUE),
        ReminderRule(Stage.AT, NoticeKind.MEASURE_DEADLINE_PASSED),
    ),
    ReminderKind.MEETING: (ReminderRule(Stage.BEFORE, NoticeKind.MEETING_REMINDER),),
    ReminderKind.CONSENT_RENEWAL: (ReminderRule(Stage.BEFORE, NoticeKind.CONSENT_RENEWAL_DUE),),
    ReminderKind.WITHOUT_COORDINATOR: (
        ReminderRule(Stage.AT, NoticeKind.CASE_STILL_WITHOUT_COORDINATOR),
    ),
    ReminderKind.APPEAL_DEADLINE: (
        ReminderRule(Stage.BEFORE, NoticeKind.APPEAL_DEADLINE_DUE),
        ReminderRule(Stage.AT, NoticeKind.APPEAL_DEADLINE_PASSED),
    ),
}


def lead(kind: ReminderKind, leads: LeadTimes) -> timedelta:
    """How long before its due time a reminder's first notice comes."""
    return {
        ReminderKind.EVALUATION: timedelta(days=leads.evaluation_days),
        ReminderKind.REVISION: timedelta(days=leads.evaluation_days),
        ReminderKind.MEASURE_DEADLINE: timedelta(days=leads.measure_deadline_days),
        ReminderKind.MEETING: timedelta(hours=leads.meeting_hours),
        ReminderKind.CONSENT_RENEWAL: timedelta(days=leads.consent_renewal_days),
        ReminderKind.WITHOUT_COORDINATOR: timedelta(0),
        ReminderKind.APPEAL_DEADLINE: timedelta(days=leads.appeal_days),
    }[kind]


def fire_time(kind: ReminderKind, stage: Stage, due_at: datetime, leads: LeadTimes) -> datetime:
    """When the notice of ``stage`` falls due. A case without coordinator is due when it
    started waiting, and is reminded ``without_coordinator_days`` later."""
    if kind is ReminderKind.WITHOUT_COORDINATOR:
        return due_at + timedelta(days=leads.without_coordinator_days)
    if stage is Stage.BEFORE:
        return due_at - lead(kind, leads)
    return due_at


def due_now(
    kind: ReminderKind,
    due_at: datetime,
    fired: frozenset[str],
    now: datetime,
    leads: LeadTimes,
) -> tuple[list[ReminderRule], list[Stage]]:
    """The stages of a reminder to tell now, and those to pass over: a "before" notice whose
    date has already come is pointless (the "at" notice says it better, or the meeting has
    been held). Each stage is told at most once."""
    tell: list[ReminderRule] = []
    skip: list[Stage] = []
    for rule in RULES[kind]:
        if rule.stage in fired or fire_time(kind, rule.stage, due_at, leads) > now:
            continue
        if rule.stage is Stage.BEFORE and due_at <= now:
            skip.append(rule.stage)
        else:
            tell.append(rule)
    return tell, skip


def next_fire(
    kind: ReminderKind, due_at: datetime, fired: frozenset[str], leads: LeadTimes
) -> datetime | None:
    """When the reminder next has something to tell; None when every stage is done."""
    return min(
        (fire_time(kind, r.stage, due_at, leads) for r in RULES[kind] if r.stage not in fired),
        default=None,
    )


def start_of_day(on: date) -> datetime:
    """Local midnight of a date, in UTC: a date falls due when its day begins in Norway."""
    return datetime.combine(on, time(0), OSLO).astimezone(UTC)


def local_date(at: datetime) -> date:
    return at.astimezone(OSLO).date()


# --- Quiet hours and digests ------------------------------------------------------------------


def in_quiet_hours(at: datetime, quiet: QuietHours | None) -> bool:
    if quiet is None:
        return False
    t = at.astimezone(OSLO).time()
    if quiet.start < quiet.end:
        return quiet.start <= t < quiet.end
    return t >= quiet.start or t < quiet.end  # spans midnight


def quiet_until(at: datetime, quiet: QuietHours | None) -> datetime:
    """``at`` itself outside quiet hours, else the moment they end (UTC)."""
    if not in_quiet_hours(at, quiet):
        return at
    assert quiet is not None
    local = at.astimezone(OSLO)
    end = datetime.combine(local.date(), quiet.end, OSLO).astimezone(UTC)
    if end <= at:  # compared in UTC: on the autumn night a wall-clock time comes twice
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, OSLO).astimezone(UTC)
    return end


def digest_due(now: datetime, digest_at: time, last_sent_on: date | None) -> date | None:
    """The local day whose digest should go out now, if any: once a day at ``digest_at``."""
    local = now.astimezone(OSLO)
    if local.time() < digest_at:
        return None
    today = local.date()
    if last_sent_on is not None and last_sent_on >= today:
        return None
    return today


def backoff_at(now: datetime, attempts: int, backoff_s: tuple[float, ...]) -> datetime | None:
    """When to try again after ``attempts`` failed tries; None when the tries are used up."""
    if attempts > len(backoff_s):
        return None
    return now + timedelta(seconds=backoff_s[attempts - 1])


def mask(address: str) -> str:
    """An address for screens: enough to recognise it, not enough to read it out."""
    if address.startswith(("http://", "https://")):
        scheme, _, rest = address.partition("://")
        host = rest.split("/", 1)[0].rpartition("@")[2]  # never the user-info
        return f"{scheme}://{host}/***"
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{address[:3]}***{address[-2:]}" if len(address) > 6 else "***"
