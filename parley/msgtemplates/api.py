"""Message templates over the API: list, create (submitted to Meta), edit
(resubmitted), delete, preview, render for a contact, usage, sync. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.errors import ActionError
from parley.core.pagination import paginate
from parley.crm.access import access_contact
from parley.msgtemplates import access, actions, preview, usage
from parley.msgtemplates.render import RenderError, compile_template
from parley.msgtemplates.schemas import (
    ButtonIn,
    HeaderIn,
    PreviewIn,
    PreviewOut,
    RenderIn,
    RenderOut,
    SyncIn,
    SyncOut,
    TemplateEditIn,
    TemplateIn,
    TemplateOut,
    TemplatePage,
    UsageOut,
)
from parley.msgtemplates.spec import ButtonSpec, TemplateSpec, from_components
from parley.tenancy.actor import actor_of

router = Router(tags=["templates"])


def _spec(
    *,
    name: str,
    language: str,
    category: str,
    header: HeaderIn | None,
    body: str,
    footer: str,
    buttons: list[ButtonIn],
    examples: dict[str, str],
) -> TemplateSpec:
    header = header or HeaderIn(format="NONE", text="", example="")
    fmt = (header.format or "NONE").upper()
    samples = dict(examples)
    if fmt == "TEXT" and header.example:
        samples["header"] = header.example
    return TemplateSpec(
        name=name,
        category=category,
        language=language,
        body=body,
        header_format=fmt,
        header_text=header.text if fmt == "TEXT" else "",
        header_media=header.example if fmt not in ("NONE", "TEXT") else "",
        footer=footer,
        buttons=[
            ButtonSpec(
                type=b.type,
                text=b.text,
                url=b.url,
                phone_number=b.phone_number,
                example=b.example,
            )
            for b in buttons
        ],
        examples=samples,
    )


@router.get("/templates", response=TemplatePage, summary="List message templates")
def list_templates(
    request: HttpRequest,
    status: str | None = None,
    channel_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    """Every channel's templates, newest first. `status`: approved, pending,
    rejected, paused or disabled."""
    qs = access.template_list(actor_of(request), status=status, channel_id=channel_id)
    return paginate(qs, cursor=cursor, limit=limit, newest_first=True)


@router.post(
    "/templates",
    response={201: TemplateOut},
    summary="Create a template and submit it to Meta for review",
)
def create_template(request: HttpRequest, payload: TemplateIn) -> Any:
    """Checked against Meta's rules first (400 with the `field` at fault), then
    submitted; it starts PENDING and follows Meta's review by webhook."""
    actor = actor_of(request)
    channel = access.access_channel_for_templates(actor, payload.channel_id)
    spec = _spec(
        name=payload.name,
        language=payload.language,
        category=payload.category,
        header=payload.header,
        body=payload.body,
        footer=payload.footer,
        buttons=payload.buttons,
        examples=payload.examples,
    )
    template = actions.do_create_template(actor=actor, channel=channel, spec=spec)
    return Status(201, template)


@router.post("/templates/sync", response={202: SyncOut}, summary="Sync templates from Meta")
def sync_templates(request: HttpRequest, payload: SyncIn) -> Any:
    actor = actor_of(request)
    channels = (
        [access.access_channel_for_templates(actor, payload.channel_id)]
        if payload.channel_id is not None
        else access.channels(actor)
    )
    return Status(202, {"channels": actions.do_sync_now(actor=actor, channels=channels)})


@router.get("/templates/{template_id}", response=TemplateOut, summary="Get a template")
def get_template(request: HttpRequest, template_id: int) -> Any:
    return access.access_template(actor_of(request), template_id)


@router.put(
    "/templates/{template_id}",
    response=TemplateOut,
    summary="Edit a template (resubmitted to Meta)",
)
def edit_template(request: HttpRequest, template_id: int, payload: TemplateEditIn) -> Any:
    """Only approved, rejected or paused templates; the template goes back to
    PENDING until Meta reviews it again."""
    actor = actor_of(request)
    template = access.access_template(actor, template_id)
    spec = _spec(
        name=template.name,
        language=template.language,
        category=payload.category or template.category,
        header=payload.header,
        body=payload.body,
        footer=payload.footer,
        buttons=payload.buttons,
        examples=payload.examples,
    )
    return actions.do_edit_template(actor=actor, template=template, spec=spec)


@router.delete("/templates/{template_id}", response={204: None}, summary="Delete a template")
def delete_template(request: HttpRequest, template_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_template(actor=actor, template=access.access_template(actor, template_id))
    return Status(204, None)


@router.get(
    "/templates/{template_id}/usage",
    response=list[UsageOut],
    summary="Who sent the template, and how often",
)
def template_usage(request: HttpRequest, template_id: int) -> Any:
    actor = actor_of(request)
    template = access.access_template(actor, template_id)
    return usage.usage_of(actor.workspace.pk, template.pk)


@router.post(
    "/templates/{template_id}/preview",
    response=PreviewOut,
    summary="Preview with sample values",
)
def preview_template(request: HttpRequest, template_id: int, payload: PreviewIn) -> Any:
    template = access.access_template(actor_of(request), template_id)
    spec = from_components(
        name=template.name,
        category=template.category,
        language=template.language,
        items=template.components,
    )
    b = preview.bubble(spec, payload.samples)
    return {
        "header_format": b.header_format,
        "header": "".join(s.text for s in b.header),
        "header_media": b.header_media,
        "body": b.body_text,
        "footer": b.footer,
        "buttons": [{"type": x.type, "text": x.text, "detail": x.detail} for x in b.buttons],
    }


@router.post(
    "/templates/{template_id}/render",
    response=RenderOut,
    summary="The Cloud API message a contact would get",
)
def render_template(request: HttpRequest, template_id: int, payload: RenderIn) -> Any:
    """The template with a variable mapping, rendered for one contact (nothing is
    sent): the `template` message body and the filled text."""
    actor = actor_of(request)
    template = access.access_template(actor, template_id)
    if payload.contact_id is None:
        raise ActionError("Pick the contact to render for.", code="required", field="contact_id")
    contact = access_contact(actor, payload.contact_id)
    try:
        rendered = compile_template(template, payload.mapping).render(contact, payload.values)
    except RenderError as exc:
        raise ActionError(exc.reason, code="render_failed", field="mapping") from exc
    return {"payload": rendered.payload, "text": rendered.text}
