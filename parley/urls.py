from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from parley.accounts import views as accounts
from parley.api import api
from parley.crm import views as crm
from parley.crm import views_contact as crm_contact
from parley.crm import views_setup as crm_setup
from parley.inbox import live as inbox_live
from parley.inbox import views as inbox
from parley.ops import views as ops
from parley.tenancy import views as tenancy
from parley.whatsapp import views as channels
from parley.whatsapp.views_webhook import whatsapp_webhook

urlpatterns = [
    path("", tenancy.home, name="home"),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    # People
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("invite/<str:token>/", accounts.accept_invitation, name="accept_invitation"),
    path("me/", accounts.profile, name="profile"),
    path("workspaces/new/", tenancy.workspace_new, name="workspace_new"),
    # One workspace
    path("w/<slug:slug>/", tenancy.workspace_home, name="workspace_home"),
    path("w/<slug:slug>/settings/", tenancy.workspace_settings, name="workspace_settings"),
    path("w/<slug:slug>/delete/", tenancy.workspace_delete, name="workspace_delete"),
    path("w/<slug:slug>/leave/", tenancy.workspace_leave, name="workspace_leave"),
    path("w/<slug:slug>/members/", tenancy.members, name="members"),
    path("w/<slug:slug>/members/<int:member_id>/role/", tenancy.member_role, name="member_role"),
    path(
        "w/<slug:slug>/members/<int:member_id>/remove/", tenancy.member_remove, name="member_remove"
    ),
    path(
        "w/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        tenancy.invitation_revoke,
        name="invitation_revoke",
    ),
    path("w/<slug:slug>/billing/", tenancy.billing, name="billing"),
    path("w/<slug:slug>/tokens/", accounts.tokens, name="tokens"),
    path("w/<slug:slug>/inbox/", inbox.inbox, name="inbox"),
    path("w/<slug:slug>/inbox/list/", inbox.conversation_list, name="inbox_list"),
    path("w/<slug:slug>/inbox/events", inbox_live.events, name="inbox_events"),
    path("w/<slug:slug>/inbox/<int:conversation_id>/", inbox.inbox, name="inbox_conversation"),
    path("w/<slug:slug>/inbox/<int:conversation_id>/thread/", inbox.thread, name="inbox_thread"),
    path("w/<slug:slug>/inbox/<int:conversation_id>/send/", inbox.send, name="inbox_send"),
    path(
        "w/<slug:slug>/inbox/<int:conversation_id>/template/",
        inbox.send_template,
        name="inbox_send_template",
    ),
    path("w/<slug:slug>/inbox/<int:conversation_id>/file/", inbox.send_file, name="inbox_file"),
    path(
        "w/<slug:slug>/inbox/<int:conversation_id>/buttons/",
        inbox.send_buttons,
        name="inbox_buttons",
    ),
    path("w/<slug:slug>/inbox/<int:conversation_id>/note/", inbox.add_note, name="inbox_note"),
    path("w/<slug:slug>/inbox/<int:conversation_id>/assign/", inbox.assign, name="inbox_assign"),
    path("w/<slug:slug>/inbox/<int:conversation_id>/tag/", inbox.tag, name="inbox_tag"),
    path(
        "w/<slug:slug>/inbox/<int:conversation_id>/status/",
        inbox.change_status,
        name="inbox_status",
    ),
    path("w/<slug:slug>/media/<int:message_id>", inbox.media, name="inbox_media"),
    path("w/<slug:slug>/contacts/", crm.contacts, name="contacts"),
    path("w/<slug:slug>/contacts/setup/", crm_setup.contact_setup, name="contact_setup"),
    path(
        "w/<slug:slug>/contacts/<int:contact_id>/",
        crm_contact.contact_detail,
        name="contact_detail",
    ),
    path(
        "w/<slug:slug>/contacts/<int:contact_id>/timeline/",
        crm_contact.contact_timeline,
        name="contact_timeline",
    ),
    # CRM areas built on contacts, one URL module each
    path("w/<slug:slug>/notifications/", include("parley.notifications.urls")),
    path("w/<slug:slug>/notes/", include("parley.notes.urls")),
    path("w/<slug:slug>/tasks/", include("parley.todos.urls")),
    path("w/<slug:slug>/deals/", include("parley.deals.urls")),
    path("w/<slug:slug>/segments/", include("parley.segments.urls")),
    path("w/<slug:slug>/transfer/", include("parley.transfer.urls")),
    path("w/<slug:slug>/search/", include("parley.search.urls")),
    # Campaigns
    path("w/<slug:slug>/templates/", include("parley.msgtemplates.urls")),
    path("w/<slug:slug>/broadcasts/", include("parley.broadcasts.urls")),
    path("w/<slug:slug>/scheduled/", include("parley.scheduled.urls")),
    path("w/<slug:slug>/drips/", include("parley.drips.urls")),
    path("w/<slug:slug>/automation/logs/", include("parley.executions.urls")),
    path("w/<slug:slug>/automation/webhooks/", include("parley.integrations.urls")),
    path("w/<slug:slug>/automation/routing/", include("parley.routing.urls")),
    path("w/<slug:slug>/automation/rules/", include("parley.autotag.urls")),
    path("w/<slug:slug>/automation/workflows/", include("parley.workflows.urls")),
    path("w/<slug:slug>/quick-replies/", inbox.quick_replies, name="quick_replies"),
    path(
        "w/<slug:slug>/quick-replies/<int:quick_reply_id>/",
        inbox.quick_reply_edit,
        name="quick_reply_edit",
    ),
    path("w/<slug:slug>/channels/", channels.channels, name="channels"),
    path(
        "w/<slug:slug>/channels/<int:channel_id>/", channels.channel_detail, name="channel_detail"
    ),
    path("w/<slug:slug>/tokens/<int:token_id>/revoke/", accounts.token_revoke, name="token_revoke"),
    path("w/<slug:slug>/tokens/<int:token_id>/rotate/", accounts.token_rotate, name="token_rotate"),
    # Operator
    path("ops/", ops.console, name="ops_console"),
    path("ops/jobs/<int:job_id>/retry/", ops.job_retry, name="ops_job_retry"),
    path(
        "ops/workspaces/<int:workspace_id>/quota/", ops.workspace_quota, name="ops_workspace_quota"
    ),
    # Meta's webhooks (authenticated by signature, not by session)
    path("webhooks/whatsapp/<str:key>", whatsapp_webhook, name="whatsapp_webhook"),
    # API
    path("api/v1/", api.urls),
]
