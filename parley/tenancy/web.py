"""Glue for workspace pages: resolve the member, check the capability,
turn refused actions into form errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from parley.core.errors import ActionError
from parley.tenancy.access import enter_workspace
from parley.tenancy.actions import do_remember_workspace
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

P = ParamSpec("P")
WorkspaceView = Callable[Concatenate[HttpRequest, Actor, P], HttpResponseBase]


def workspace_view(
    cap: Cap = Cap.WORKSPACE_READ,
) -> Callable[[WorkspaceView[P]], Callable[Concatenate[HttpRequest, str, P], HttpResponseBase]]:
    """A page inside /w/<slug>/: 404 unless the user is a member, 403 unless
    their role has ``cap``."""

    def decorator(
        view: WorkspaceView[P],
    ) -> Callable[Concatenate[HttpRequest, str, P], HttpResponseBase]:
        @login_required
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, slug: str, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponseBase:
            actor = enter_workspace(request.user, slug)  # type: ignore[arg-type]
            request.actor = actor  # type: ignore[attr-defined]
            actor.require(cap)
            do_remember_workspace(user=request.user, workspace_id=actor.workspace.pk)  # type: ignore[arg-type]
            return view(request, actor, *args, **kwargs)

        return cast(Callable[Concatenate[HttpRequest, str, P], HttpResponseBase], wrapper)

    return decorator


def apply_action(form: forms.Form, fn: Callable[[], Any]) -> Any:
    """Run an action; a refusal becomes an error on the form's field."""
    try:
        return fn()
    except ActionError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return None


def flash_action(request: HttpRequest, fn: Callable[[], Any], success: str) -> Any:
    """Run an action from a button; show its refusal or success as a message."""
    try:
        result = fn()
    except ActionError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success)
    return result
