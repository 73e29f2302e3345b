"""Drip pages: the list, a sequence's steps, subscribers, stats and send log,
its settings, and the step editor. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import ActionError
from parley.crm.models import AttributeDefinition, Contact, Tag
from parley.crm.search import search_contacts
from parley.drips import access, actions
from parley.drips.forms import SequenceForm, StepForm
from parley.drips.models import WEEKDAYS, Enrolment, Sequence, Step
from parley.drips.timing import workspace_zone
from parley.segments.models import Segment
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, flash_action, workspace_view
from parley.whatsapp.models import Channel, MessageTemplate

PAGE = 50
SEARCH_LIMIT = 30


def _tags(actor: Actor) -> list[Tag]:
    return list(Tag.objects.filter(workspace=actor.workspace).order_by("name"))


def _segments(actor: Actor) -> list[Segment]:
    return list(Segment.objects.filter(workspace=actor.workspace).order_by("name"))


def _sequence_form(actor: Actor, data: Any = None, initial: Any = None) -> SequenceForm:
    return SequenceForm(
        data,
        initial=initial,
        channels=list(Channel.objects.filter(workspace=actor.workspace).order_by("name")),
        tags=_tags(actor),
        segments=_segments(actor),
    )


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _detail_url(actor: Actor, sequence: Sequence | int, name: str = "drips_detail") -> str:
    pk = sequence if isinstance(sequence, int) else sequence.pk
    return reverse(name, args=[actor.workspace.slug, pk])


def _context(actor: Actor, sequence: Sequence, tab: str, **extra: Any) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "tab": tab,
        "can_manage": actor.can(Cap.CAMPAIGNS_MANAGE),
        **extra,
    }


# -- list and create ----------------------------------------------------------------------


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def drips_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    sequences = list(access.sequence_list(actor).order_by("-active", "name", "id"))
    return render(
        request,
        "drips/index.html",
        {"sequences": sequences, "can_manage": actor.can(Cap.CAMPAIGNS_MANAGE)},
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
def drips_new(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    if request.method == "POST":
        form = _sequence_form(actor, request.POST)
        if form.is_valid():
            sequence = apply_action(
                form, lambda: actions.do_create_sequence(actor=actor, fields=form.fields_value())
            )
            if sequence is not None:
                messages.success(request, "Sequence created. Add its first step.")
                return redirect(_detail_url(actor, sequence, "drips_step_new"))
    else:
        form = _sequence_form(actor, initial={"exit_on_reply": True, "trigger": "tag_added"})
    return render(request, "drips/settings.html", {"form": form, "sequence": None})


# -- one sequence -------------------------------------------------------------------------


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def drips_detail(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    """The steps, in order, with what each sends, when and to whom."""
    sequence = access.access_sequence(actor, sequence_id)
    steps = access.steps_of(actor, sequence)
    return render(
        request,
        "drips/detail.html",
        _context(actor, sequence, "steps", steps=steps, weekdays=WEEKDAYS),
    )


@workspace_view(Cap.CAMPAIGNS_READ)
def drips_settings(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponseBase:
    sequence = access.access_sequence(actor, sequence_id)
    if request.method == "POST":
        actor.require(Cap.CAMPAIGNS_MANAGE)
        form = _sequence_form(actor, request.POST)
        if form.is_valid() and apply_action(
            form,
            lambda: actions.do_update_sequence(
                actor=actor, sequence=sequence, fields=form.fields_value()
            ),
        ):
            messages.success(request, "Sequence saved.")
            return redirect(_detail_url(actor, sequence, "drips_settings"))
    else:
        form = _sequence_form(
            actor, initial=SequenceForm.initial_of(actions.SequenceFields.of(sequence))
        )
    return render(request, "drips/settings.html", _context(actor, sequence, "settings", form=form))


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def drips_toggle(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    if request.POST.get("active") == "1":
        flash_action(
            request,
            lambda: actions.do_activate(actor=actor, sequence=sequence),
            f"{sequence.name} is active.",
        )
    else:
        flash_action(
            request,
            lambda: actions.do_deactivate(actor=actor, sequence=sequence),
            f"{sequence.name} is paused: nobody is enrolled and no step goes out until you "
            "activate it again.",
        )
    return redirect(_back(request, _detail_url(actor, sequence)))


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def drips_delete(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    name = sequence.name
    if flash_action(
        request,
        lambda: actions.do_delete_sequence(actor=actor, sequence=sequence) or True,
        f"Sequence {name} deleted.",
    ):
        return redirect("drips_index", slug=actor.workspace.slug)
    return redirect(_detail_url(actor, sequence, "drips_settings"))


# -- steps --------------------------------------------------------------------------------


def _templates(actor: Actor, sequence: Sequence) -> list[MessageTemplate]:
    return list(
        MessageTemplate.objects.filter(
            workspace=actor.workspace, channel_id=sequence.channel_id
        ).order_by("name", "language")
    )


def _attributes(actor: Actor) -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.filter(workspace=actor.workspace).order_by("label"))


def _step_page(
    request: HttpRequest, actor: Actor, sequence: Sequence, step: Step | None
) -> HttpResponseBase:
    from parley.msgtemplates.render import mapping_from_form

    templates = _templates(actor, sequence)
    choices: dict[str, Any] = {
        "templates": templates,
        "tags": _tags(actor),
        "segments": _segments(actor),
    }
    mapping: dict[str, Any] = dict(step.content.mapping) if step is not None else {}
    template: MessageTemplate | None = step.content.template if step is not None else None
    if request.method == "POST":
        actor.require(Cap.CAMPAIGNS_MANAGE)
        form = StepForm(request.POST, **choices)
        picked = request.POST.get("template_id") or ""
        template = next((t for t in templates if str(t.pk) == picked), None)
        mapping = mapping_from_form(template, request.POST, prefix="var") if template else {}
        if form.is_valid():
            saved = apply_action(
                form,
                lambda: actions.do_save_step(
                    actor=actor, sequence=sequence, step=step, fields=form.fields_value(mapping)
                ),
            )
            if saved is not None:
                messages.success(request, f"Step {saved.position} saved.")
                return redirect(_detail_url(actor, sequence))
    else:
        initial = (
            StepForm.initial_of(actions.StepFields.of(step))
            if step is not None
            else {"kind": "template", "delay_amount": 1 if _has_steps(actor, sequence) else 0}
        )
        form = StepForm(initial=initial, **choices)
    return render(
        request,
        "drips/step_form.html",
        _context(
            actor,
            sequence,
            "steps",
            form=form,
            step=step,
            template=template,
            mapping=mapping,
            attributes=_attributes(actor),
            timezone_name=actor.workspace.timezone,
        ),
    )


def _has_steps(actor: Actor, sequence: Sequence) -> bool:
    return Step.objects.filter(workspace=actor.workspace, sequence=sequence).exists()


@workspace_view(Cap.CAMPAIGNS_MANAGE)
def drips_step_new(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponseBase:
    return _step_page(request, actor, access.access_sequence(actor, sequence_id), None)


@workspace_view(Cap.CAMPAIGNS_READ)
def drips_step_edit(
    request: HttpRequest, actor: Actor, sequence_id: int, step_id: int
) -> HttpResponseBase:
    sequence = access.access_sequence(actor, sequence_id)
    return _step_page(request, actor, sequence, access.access_step(actor, sequence, step_id))


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def drips_step_mapping(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    """The variable rows of the picked template (swapped in by htmx)."""
    sequence = access.access_sequence(actor, sequence_id)
    raw = request.GET.get("template_id", "")
    template = (
        MessageTemplate.objects.filter(
            workspace=actor.workspace, channel_id=sequence.channel_id, pk=int(raw)
        ).first()
        if raw.isdigit()
        else None
    )
    return render(
        request,
        "drips/_mapping.html",
        {"template": template, "mapping": {}, "attributes": _attributes(actor)},
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def drips_step_delete(
    request: HttpRequest, actor: Actor, sequence_id: int, step_id: int
) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    step = access.access_step(actor, sequence, step_id)
    flash_action(
        request,
        lambda: actions.do_delete_step(actor=actor, step=step) or True,
        f"Step {step.position} deleted; contacts waiting for it move on to the next.",
    )
    return redirect(_detail_url(actor, sequence))


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def drips_step_move(
    request: HttpRequest, actor: Actor, sequence_id: int, step_id: int
) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    step = access.access_step(actor, sequence, step_id)
    by = 1 if request.POST.get("by") == "1" else -1
    flash_action(
        request, lambda: actions.do_move_step(actor=actor, step=step, by=by), "Steps reordered."
    )
    return redirect(_detail_url(actor, sequence))


# -- subscribers --------------------------------------------------------------------------


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def drips_subscribers(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    state = request.GET.get("state", "")
    state = state if state in Enrolment.State.values else ""
    qs = access.enrolment_list(actor, sequence, state=state).order_by("-enrolled_at", "-id")
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    steps = access.steps_of(actor, sequence)
    counts = access.state_counts(actor, sequence)
    with timezone.override(workspace_zone(actor.workspace.timezone)):
        return render(
            request,
            "drips/subscribers.html",
            _context(
                actor,
                sequence,
                "subscribers",
                page=page,
                subscribers=access.step_statuses(actor, list(page.object_list)),
                steps=steps,
                state=state,
                states=[(s, label, counts[s]) for s, label in Enrolment.State.choices],
            ),
        )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_GET
def drips_contact_search(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    """Contacts matching the search box, as checkboxes (swapped in by htmx)."""
    sequence = access.access_sequence(actor, sequence_id)
    q = request.GET.get("q", "").strip()[:100]
    contacts: list[Contact] = []
    if q:
        contacts = list(
            search_contacts(actor.workspace.pk, q, default_country=actor.workspace.default_country)
            .filter(workspace=actor.workspace)
            .order_by("id")[:SEARCH_LIMIT]
        )
    active = set(
        Enrolment.objects.filter(
            workspace=actor.workspace,
            sequence=sequence,
            state=Enrolment.State.ACTIVE,
            contact_id__in=[c.pk for c in contacts],
        ).values_list("contact_id", flat=True)
    )
    return render(
        request, "drips/_contact_choices.html", {"contacts": contacts, "active": active, "q": q}
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def drips_enrol(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    ids = [int(i) for i in request.POST.getlist("contact_ids") if i.isdigit()]
    try:
        result = actions.do_enrol(actor=actor, sequence=sequence, contact_ids=ids)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        parts = [f"{result.enrolled} enrolled"]
        if result.already:
            parts.append(f"{result.already} already in the sequence")
        if result.opted_out:
            parts.append(f"{result.opted_out} opted out (not enrolled)")
        if result.not_found:
            parts.append(f"{result.not_found} not found")
        messages.success(request, ", ".join(parts) + ".")
    return redirect(_detail_url(actor, sequence, "drips_subscribers"))


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def drips_remove(
    request: HttpRequest, actor: Actor, sequence_id: int, enrolment_id: int
) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    enrolment = access.access_enrolment(actor, sequence, enrolment_id)
    flash_action(
        request,
        lambda: actions.do_remove_enrolment(actor=actor, enrolment=enrolment),
        f"{enrolment.contact.display_name} left the sequence.",
    )
    return redirect(_back(request, _detail_url(actor, sequence, "drips_subscribers")))


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def drips_enrol_contact(request: HttpRequest, actor: Actor, contact_id: int) -> HttpResponse:
    """From the contact page's panel."""
    contact = access.access_enrollable_contact(actor, contact_id)
    raw = request.POST.get("sequence_id", "")
    back = _back(request, reverse("contact_detail", args=[actor.workspace.slug, contact.pk]))
    if not raw.isdigit():
        messages.error(request, "Pick a sequence.")
        return redirect(back)
    sequence = access.access_sequence(actor, int(raw))
    flash_action(
        request,
        lambda: actions.do_enrol_contact(actor=actor, sequence=sequence, contact=contact),
        f"{contact.display_name} enrolled in {sequence.name}.",
    )
    return redirect(back)


# -- figures ------------------------------------------------------------------------------


BARS = [
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("replied", "Replied"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
]


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def drips_stats(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    rows = []
    for step, p in access.step_stats(actor, access.steps_of(actor, sequence)):
        figures = p.as_dict()
        top = max([figures[k] for k, _label in BARS] + [1])
        rows.append(
            {
                "step": step,
                "progress": p,
                "bars": [
                    (key, label, figures[key], round(100 * figures[key] / top))
                    for key, label in BARS
                ],
            }
        )
    return render(request, "drips/stats.html", _context(actor, sequence, "stats", rows=rows))


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def drips_log(request: HttpRequest, actor: Actor, sequence_id: int) -> HttpResponse:
    sequence = access.access_sequence(actor, sequence_id)
    with timezone.override(workspace_zone(actor.workspace.timezone)):
        return render(
            request,
            "drips/log.html",
            _context(actor, sequence, "log", rows=access.send_log(actor, sequence, limit=200)),
        )
