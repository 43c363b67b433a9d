from django.urls import path

from crm.care import callbacks, views

app_name = "care"

urlpatterns = [
    path("", views.home, name="home"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/", views.message_detail, name="message"),
    path("outbox/<int:pk>/cancel/", views.message_cancel, name="message_cancel"),
    path("outbox/<int:pk>/resend/", views.message_resend, name="message_resend"),
    path("outbox/resend/", views.outbox_resend, name="outbox_resend"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/", views.draft_decide, name="draft_decide"),
    path("broadcast/", views.broadcast, name="broadcast"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/preview/", views.rule_preview, name="rule_preview"),
    path("optouts/", views.optouts, name="optouts"),
    path("optouts/new/", views.opt_out_lookup, name="opt_out_lookup"),
    path("optouts/<int:pk>/opt-out/", views.opt_out, name="opt_out"),
    path("optouts/<int:pk>/opt-in/", views.opt_in, name="opt_in"),
    path("callbacks/<slug:gateway_name>/<slug:kind>/<str:token>/", callbacks.gateway_callback, name="callback"),
]
