"""The team inbox: list, thread, composer, notes, assignment. Thin; htmx
swaps the partials, SSE tells the page when to refresh them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from parley.core.errors import ActionError
from parley.crm.access import tag_by_name
from parley.crm.actions import do_ensure_tag
from parley.crm.models import Tag
from parley.inbox import access, actions, quota
from parley.inbox.conversation_tags import do_tag_conversations, tags_by_conversation
from parley.inbox.forms import ComposeForm, QuickReplyForm, TemplateForm
from parley.inbox.models import Conversation, Message, Note, QuickReply
from parley.inbox.window import window_closes_at, window_open
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, workspace_view
from parley.whatsapp.models import MessageTemplate

PAGE = 50


def _list_context(request: HttpRequest, actor: Actor) -> dict[str, object]:
    view = request.GET.get("view", "all")
    view = view if view in ("mine", "unassigned", "all") else "all"
    requested = request.GET.get("status", "open")
    status = requested if requested in Conversation.Status.values else None
    q = request.GET.get("q", "")[:100]
    conversations = list(access.conversation_list(actor, view=view, status=status, q=q)[:PAGE])
    return {
        "conversations": conversations,
        "view": view,
        "status": status or "all",
        "q": q,
        "statuses": [*Conversation.Status.values, "all"],
    }


def _thread_context(actor: Actor, conversation: Conversation) -> dict[str, object]:
    recent = list(
        Message.objects.filter(workspace=actor.workspace, conversation=conversation)
        .select_related("sent_by", "reply_to")
        .order_by("-id")[:100]
    )
    recent.reverse()
    by_wamid = {m.wamid: m for m in recent if m.wamid}
    reactions: dict[int, list[str]] = {}
    bubbles = []
    for m in recent:
        if m.type == "reaction":
            target = by_wamid.get(str((m.payload.get("reaction") or {}).get("message_id")))
            if target is not None:
                if m.text:
                    reactions.setdefault(target.pk, []).append(m.text)
                continue
        bubbles.append(m)
    for m in bubbles:
        m.reactions = reactions.get(m.pk, [])  # type: ignore[attr-defined]
    notes = list(
        Note.objects.filter(workspace=actor.workspace, conversation=conversation)
        .select_related("author")
        .order_by("id")[:200]
    )
    now = timezone.now()
    return {
        "conversation": conversation,
        "conversation_tags": tags_by_conversation(actor.workspace.pk, [conversation.pk]).get(
            conversation.pk, []
        ),
        "all_tags": Tag.objects.filter(workspace=actor.workspace).order_by("name")[:500],
        "bubbles": bubbles,
        "notes": notes,
        "window_open": window_open(conversation, now),
        "window_closes_at": window_closes_at(conversation),
        "agents": Membership.objects.select_related("user")
        .filter(workspace=actor.workspace)
        .exclude(role="viewer")
        .order_by("user__email"),
        "quick_replies": QuickReply.objects.filter(workspace=actor.workspace).order_by("shortcut")[
            :200
        ],
        "can_work": actor.can(Cap.CONVERSATIONS_WORK),
        "quota_level": quota.level(actor.workspace),
        "templates": MessageTemplate.objects.filter(
            workspace=actor.workspace, channel_id=conversation.channel_id, status="APPROVED"
        ).order_by("name")[:200],
    }


@workspace_view(Cap.CONVERSATIONS_READ)
def inbox(request: HttpRequest, actor: Actor, conversation_id: int | None = None) -> HttpResponse:
    context = _list_context(request, actor)
    if conversation_id is not None:
        conversation = access.access_conversation(actor, conversation_id)
        actions.do_mark_read(actor=actor, conversation=conversation)
        context.update(_thread_context(actor, conversation))
    context["quota_level"] = quota.level(actor.workspace)
    return render(request, "inbox/inbox.html", context)


@workspace_view(Cap.CONVERSATIONS_READ)
def conversation_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = _list_context(request, actor)
    context["selected_id"] = request.GET.get("selected")
    return render(request, "inbox/_list.html", context)


@workspace_view(Cap.CONVERSATIONS_READ)
def thread(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = access.access_conversation(actor, conversation_id)
    return render(request, "inbox/_thread.html", _thread_context(actor, conversation))


def _back(actor: Actor, conversation: Conversation) -> HttpResponse:
    return redirect(
        "inbox_conversation", slug=actor.workspace.slug, conversation_id=conversation.pk
    )


def _respond(request: HttpRequest, actor: Actor, conversation: Conversation) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        conversation.refresh_from_db()
        return render(request, "inbox/_thread.html", _thread_context(actor, conversation))
    return _back(actor, conversation)


def _act(
    request: HttpRequest,
    actor: Actor,
    conversation_id: int,
    act: Callable[[Conversation], object],
) -> HttpResponse:
    """Run one action on a conversation; a refusal becomes a message shown
    above the refreshed thread."""
    conversation = access.access_conversation(actor, conversation_id)
    try:
        act(conversation)
    except ActionError as exc:
        messages.error(request, exc.message)
    return _respond(request, actor, conversation)


def _expand_quick_reply(actor: Actor, conversation: Conversation, text: str) -> str:
    """ "/shortcut" alone becomes that quick reply, with its variables filled."""
    if text.startswith("/") and " " not in text.strip():
        quick = QuickReply.objects.filter(
            workspace=actor.workspace, shortcut=text.strip()[1:].lower()
        ).first()
        if quick is not None:
            return actions.render_quick_reply(quick.body, conversation, actor)
    return text


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def send(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    form = ComposeForm(request.POST)
    if not form.is_valid():
        return _act(request, actor, conversation_id, lambda c: None)

    def act(conversation: Conversation) -> object:
        reply_id = form.cleaned_data.get("reply_to")
        reply_to = access.access_message(actor, conversation, reply_id) if reply_id else None
        text = _expand_quick_reply(actor, conversation, form.cleaned_data["text"])
        return actions.do_send_text(
            actor=actor, conversation=conversation, text=text, reply_to=reply_to
        )

    return _act(request, actor, conversation_id, act)


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def send_file(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    upload = request.FILES.get("file")

    def act(conversation: Conversation) -> object:
        if upload is None:
            raise ActionError("Choose a file to send.", code="required", field="file")
        return actions.do_send_file(
            actor=actor,
            conversation=conversation,
            filename=upload.name or "file",
            content=upload.read(),
            mime_type=upload.content_type or "",
            caption=request.POST.get("caption", ""),
        )

    return _act(request, actor, conversation_id, act)


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def send_buttons(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    return _act(
        request,
        actor,
        conversation_id,
        lambda c: actions.do_send_buttons(
            actor=actor,
            conversation=c,
            body=request.POST.get("body", ""),
            buttons=request.POST.getlist("buttons"),
        ),
    )


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def send_template(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    form = TemplateForm(request.POST)
    form.is_valid()  # every field is optional; the action says what is missing
    name, language = form.name_and_language()
    return _act(
        request,
        actor,
        conversation_id,
        lambda c: actions.do_send_template(
            actor=actor,
            conversation=c,
            name=name,
            language=language,
            body_parameters=form.parameter_list(),
        ),
    )


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def add_note(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    return _act(
        request,
        actor,
        conversation_id,
        lambda c: actions.do_add_note(
            actor=actor, conversation=c, body=request.POST.get("body", "")
        ),
    )


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def assign(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    raw = request.POST.get("assignee", "")
    user_id = actor.user_id if raw == "me" else (int(raw) if raw.isdigit() else None)
    return _act(
        request,
        actor,
        conversation_id,
        lambda c: actions.do_assign(actor=actor, conversation=c, user_id=user_id),
    )


SNOOZE_CHOICES = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
}


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def tag(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    """Add a tag by name (created if new) or remove one."""
    name = request.POST.get("tag_name", "").strip()
    add = request.POST.get("mode", "add") == "add"

    def act(conversation: Conversation) -> object:
        found = do_ensure_tag(actor=actor, name=name) if add else tag_by_name(actor, name)
        if found is None:
            return 0
        return do_tag_conversations(
            actor=actor, tag=found, conversation_ids=[conversation.pk], add=add
        )

    return _act(request, actor, conversation_id, act)


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def change_status(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    snooze = SNOOZE_CHOICES.get(request.POST.get("snooze", ""))
    until = timezone.now() + snooze if snooze else None
    return _act(
        request,
        actor,
        conversation_id,
        lambda c: actions.do_change_status(
            actor=actor, conversation=c, status=request.POST.get("status", ""), snoozed_until=until
        ),
    )


@workspace_view(Cap.CONVERSATIONS_READ)
def quick_replies(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = QuickReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        actor.require(Cap.CONVERSATIONS_WORK)
        if form.is_valid():
            saved = apply_action(
                form,
                lambda: actions.do_save_quick_reply(
                    actor=actor, quick_reply=None, **form.cleaned_data
                ),
            )
            if saved is not None:
                messages.success(request, f"Quick reply /{saved.shortcut} saved.")
                return redirect("quick_replies", slug=actor.workspace.slug)
    rows = QuickReply.objects.filter(workspace=actor.workspace).order_by("shortcut")
    return render(
        request,
        "inbox/quick_replies.html",
        {"form": form, "rows": rows, "can_work": actor.can(Cap.CONVERSATIONS_WORK)},
    )


@workspace_view(Cap.CONVERSATIONS_WORK)
def quick_reply_edit(request: HttpRequest, actor: Actor, quick_reply_id: int) -> HttpResponse:
    quick_reply = access.access_quick_reply(actor, quick_reply_id)
    if request.method == "POST" and request.POST.get("delete"):
        actions.do_delete_quick_reply(actor=actor, quick_reply=quick_reply)
        messages.success(request, f"Quick reply /{quick_reply.shortcut} deleted.")
        return redirect("quick_replies", slug=actor.workspace.slug)
    form = QuickReplyForm(
        request.POST if request.method == "POST" else None,
        initial={
            "shortcut": quick_reply.shortcut,
            "title": quick_reply.title,
            "body": quick_reply.body,
        },
    )
    if request.method == "POST" and form.is_valid():
        saved = apply_action(
            form,
            lambda: actions.do_save_quick_reply(
                actor=actor, quick_reply=quick_reply, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"Quick reply /{saved.shortcut} saved.")
            return redirect("quick_replies", slug=actor.workspace.slug)
    return render(
        request, "inbox/quick_reply_edit.html", {"form": form, "quick_reply": quick_reply}
    )


@workspace_view(Cap.CONVERSATIONS_READ)
def media(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponseBase:
    """A message's stored media, for members only (storage paths are never public)."""
    from django.core.files.storage import default_storage
    from django.http import FileResponse, Http404

    message = Message.objects.filter(workspace=actor.workspace, id=message_id).first()
    path = str((message.payload if message else {}).get("stored_path") or "")
    if message is None or not path or not default_storage.exists(path):
        raise Http404("No such media.")
    response = FileResponse(
        default_storage.open(path, "rb"), content_type=message.payload.get("stored_mime")
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
