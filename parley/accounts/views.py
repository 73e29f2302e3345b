"""Sign-up, login, invitations, profile and API-token pages. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from parley.accounts import access, actions
from parley.accounts.forms import InvitedSignupForm, LoginForm, ProfileForm, SignupForm, TokenForm
from parley.accounts.models import ApiToken, User
from parley.core.errors import ActionError
from parley.tenancy.access import invitation_by_token, user_memberships
from parley.tenancy.actions import do_accept_invitation
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, flash_action, workspace_view

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = apply_action(
            form,
            lambda: actions.do_signup(
                email=data["email"],
                password=data["password"],
                name=data["name"],
                workspace_name=data["workspace_name"],
            ),
        )
        if result is not None:
            user, workspace = result
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome to Parley. {workspace.name} is ready.")
            return redirect("workspace_home", slug=workspace.slug)
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None or invitation.state != "pending":
        state = invitation.state if invitation else "unknown"
        return render(request, "accounts/invitation_invalid.html", {"state": state}, status=404)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    form = InvitedSignupForm(request.POST if request.method == "POST" else None)
    error = None
    if request.method == "POST":
        try:
            # Account and membership succeed or fail together.
            with transaction.atomic():
                if request.user.is_authenticated:
                    user = request.user
                elif existing is None and form.is_valid():
                    user = actions.do_create_user(
                        email=invitation.email,
                        password=form.cleaned_data["password"],
                        name=form.cleaned_data["name"],
                    )
                else:
                    user = None
                if user is not None:
                    do_accept_invitation(user=user, invitation=invitation)
            if user is not None:
                if not request.user.is_authenticated:
                    login(request, user, backend=MODEL_BACKEND)
                messages.success(request, f"You joined {invitation.workspace.name}.")
                return redirect("workspace_home", slug=invitation.workspace.slug)
        except ActionError as exc:
            if exc.field in form.fields and hasattr(form, "cleaned_data"):
                form.add_error(exc.field, exc.message)
            else:
                error = exc.message
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": invitation, "form": form, "existing": existing, "error": error},
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(
        request.POST if request.method == "POST" else None, initial={"name": user.name}
    )
    if request.method == "POST" and form.is_valid():
        actions.do_update_profile(user=user, name=form.cleaned_data["name"])
        messages.success(request, "Profile saved.")
        return redirect("profile")
    return render(
        request, "accounts/profile.html", {"form": form, "memberships": user_memberships(user)}
    )


NEW_TOKEN_SESSION_KEY = "parley_new_token_secret"  # noqa: S105  (a session key name)


@workspace_view(Cap.TOKENS_MANAGE)
def tokens(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = apply_action(
            form,
            lambda: actions.do_create_token(
                actor=actor, name=data["name"], scopes=data["scopes"], expires_at=form.expires_at()
            ),
        )
        if result is not None:
            token, raw = result
            # Post/redirect/get: a reload must not create a second token. The
            # secret rides in the session for exactly one page view.
            request.session[NEW_TOKEN_SESSION_KEY] = raw
            messages.success(request, f"Token {token.name} created. Copy it now: it is shown once.")
            return redirect("tokens", slug=actor.workspace.slug)
    rows = ApiToken.objects.filter(workspace=actor.workspace).order_by("-created_at")
    new_secret = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": rows, "new_secret": new_secret}
    )


@workspace_view(Cap.TOKENS_MANAGE)
def token_revoke(request: HttpRequest, actor: Actor, token_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    token = access.access_token(actor, token_id)
    flash_action(
        request,
        lambda: actions.do_revoke_token(actor=actor, token=token),
        f"Token {token.name} revoked.",
    )
    return redirect("tokens", slug=actor.workspace.slug)


@workspace_view(Cap.TOKENS_MANAGE)
def token_rotate(request: HttpRequest, actor: Actor, token_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    token = access.access_token(actor, token_id)
    result = flash_action(
        request,
        lambda: actions.do_rotate_token(actor=actor, token=token),
        f"Token {token.name} rotated. Copy the new value now: it is shown once.",
    )
    if result is not None:
        request.session[NEW_TOKEN_SESSION_KEY] = result[1]
    return redirect("tokens", slug=actor.workspace.slug)
