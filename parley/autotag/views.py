"""Auto-tag pages: the ordered list, the rule editor with its live preview. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from parley.autotag import access, actions
from parley.autotag.forms import RuleForm
from parley.autotag.models import Rule
from parley.autotag.preview import preview
from parley.core.errors import ActionError
from parley.crm.models import AttributeDefinition, Tag
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, flash_action, workspace_view

MANAGE = actions.MANAGE


def _form(actor: Actor, data: Any = None, initial: Any = None) -> RuleForm:
    return RuleForm(
        data,
        initial=initial,
        tags=list(Tag.objects.filter(workspace=actor.workspace).order_by("name")[:1000]),
        attributes=list(
            AttributeDefinition.objects.filter(workspace=actor.workspace).order_by("label")
        ),
    )


def _index(actor: Actor) -> str:
    return reverse("autotag_index", args=[actor.workspace.slug])


@workspace_view(Cap.WORKSPACE_READ)
@require_GET
def autotag_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    rules = list(access.rule_list(actor))
    names = dict(Tag.objects.filter(workspace=actor.workspace).values_list("id", "name"))
    for rule in rules:
        rule.contact_tag_names = [names[t] for t in rule.contact_tag_ids if t in names]  # type: ignore[attr-defined]
        rule.conversation_tag_names = [  # type: ignore[attr-defined]
            names[t] for t in rule.conversation_tag_ids if t in names
        ]
    return render(
        request,
        "autotag/index.html",
        {"rules": rules, "can_manage": actor.can(MANAGE), "max_rules": actions.MAX_RULES},
    )


def _editor(request: HttpRequest, actor: Actor, rule: Rule | None, form: RuleForm) -> HttpResponse:
    return render(
        request,
        "autotag/edit.html",
        {"rule": rule, "form": form, "can_manage": actor.can(MANAGE)},
    )


@workspace_view(MANAGE)
def autotag_new(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    if request.method == "POST":
        form = _form(actor, request.POST)
        if form.is_valid():
            rule = apply_action(
                form, lambda: actions.do_create_rule(actor=actor, fields=form.fields_value())
            )
            if rule is not None:
                messages.success(request, f"Rule “{rule.name}” added at the end of the order.")
                return redirect(_index(actor))
    else:
        form = _form(actor, initial={"kind": "keyword", "enabled": True})
    return _editor(request, actor, None, form)


@workspace_view(Cap.WORKSPACE_READ)
def autotag_edit(request: HttpRequest, actor: Actor, rule_id: int) -> HttpResponseBase:
    rule = access.access_rule(actor, rule_id)
    if request.method == "POST":
        actor.require(MANAGE)
        form = _form(actor, request.POST)
        if form.is_valid() and apply_action(
            form,
            lambda: actions.do_update_rule(actor=actor, rule=rule, fields=form.fields_value()),
        ):
            messages.success(request, f"Rule “{rule.name}” saved.")
            return redirect(_index(actor))
    else:
        form = _form(actor, initial=RuleForm.initial_of(actions.RuleFields.of(rule)))
    return _editor(request, actor, rule, form)


@workspace_view(MANAGE)
@require_POST
def autotag_preview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The editor's form as it stands (not saved) against recent messages."""
    form = _form(actor, request.POST)
    form.fields["name"].required = False  # a rule without a name yet still previews
    context: dict[str, Any] = {"result": None, "problem": ""}
    if form.is_valid():
        fields = form.fields_value()
        if not fields.name.strip():
            fields.name = "preview"
        try:
            compiled = actions.check_fields(actor, fields)
        except ActionError as exc:
            if exc.field in ("contact_tag_ids", "name"):
                # Tags and name do not change what matches: preview anyway.
                fields.contact_tag_ids = fields.contact_tag_ids or [0]
                try:
                    compiled = _compile_loose(fields)
                except ActionError as again:
                    context["problem"] = again.message
                    compiled = None
            else:
                context["problem"] = exc.message
                compiled = None
        if compiled is not None:
            context["result"] = preview(actor, compiled)
    else:
        context["problem"] = "Fix the form's errors to see a preview."
    return render(request, "autotag/_preview.html", context)


def _compile_loose(fields: actions.RuleFields) -> Any:
    from parley.autotag.matching import compile_rule

    return compile_rule(
        rule_id=0,
        name=fields.name,
        kind=fields.kind,
        keywords=fields.keywords,
        pattern=fields.pattern,
        attribute_key=fields.attribute_key,
        attribute_op=fields.attribute_op,
        attribute_value=fields.attribute_value,
        contact_tag_ids=(),
        conversation_tag_ids=(),
        stop_after=fields.stop_after,
    )


@workspace_view(MANAGE)
@require_POST
def autotag_move(request: HttpRequest, actor: Actor, rule_id: int) -> HttpResponse:
    rule = access.access_rule(actor, rule_id)
    offset = 1 if request.POST.get("by") == "1" else -1
    flash_action(
        request,
        lambda: actions.do_move_rule(actor=actor, rule=rule, offset=offset),
        f"“{rule.name}” moved {'down' if offset > 0 else 'up'}.",
    )
    return redirect(f"{_index(actor)}#rule-{rule.pk}")


@workspace_view(MANAGE)
@require_POST
def autotag_toggle(request: HttpRequest, actor: Actor, rule_id: int) -> HttpResponse:
    rule = access.access_rule(actor, rule_id)
    enabled = request.POST.get("enabled") == "1"
    flash_action(
        request,
        lambda: actions.do_set_enabled(actor=actor, rule=rule, enabled=enabled),
        f"“{rule.name}” {'enabled' if enabled else 'disabled'}.",
    )
    return redirect(_index(actor))


@workspace_view(MANAGE)
@require_POST
def autotag_delete(request: HttpRequest, actor: Actor, rule_id: int) -> HttpResponse:
    rule = access.access_rule(actor, rule_id)
    name = rule.name
    flash_action(
        request, lambda: actions.do_delete_rule(actor=actor, rule=rule), f"“{name}” deleted."
    )
    return redirect(_index(actor))
