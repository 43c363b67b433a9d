from django.urls import path, re_path

from crm.visits import views

app_name = "visits"

urlpatterns = [
    path("", views.task_list, name="list"),
    path("count/", views.task_list_count, name="list_count"),
    path("options/<str:field>/", views.list_options, name="list_options"),
    path("export/", views.task_export, name="export"),
    path("issues/", views.issue_list, name="issues"),
    path("issues/department/", views.department_queue, name="department_issues"),
    path("issues/export/", views.issue_export, name="issue_export"),
    path("issues/<int:pk>/", views.issue_detail, name="issue"),
    path("issues/<int:pk>/convert/", views.issue_convert, name="issue_convert"),
    re_path(r"^issues/(?P<pk>\d+)/(?P<verb>start|resolve|inform)/$", views.issue_act, name="issue_act"),
    path("repairs/", views.repair_list, name="repairs"),
    path("repairs/export/", views.repair_export, name="repair_export"),
    path("repairs/import/", views.repair_import, name="repair_import"),
    path("repairs/<int:pk>/complete/", views.repair_complete, name="repair_complete"),
    path("samples/", views.sample_list, name="samples"),
    path("review/", views.review_list, name="review"),
    path("review/export/", views.review_export, name="review_export"),
    re_path(r"^flags/(?P<pk>\d+)/(?P<verb>answer|accept|reopen)/$", views.flag_act, name="flag_act"),
    path("stats/", views.stats_page, name="stats"),
    path("stats/export/", views.stats_export, name="stats_export"),
    path("stats/scores/", views.scores_page, name="scores"),
    path("stats/scores/plan/", views.scores_plan, name="scores_plan"),
    path("stats/scores/export/", views.scores_export, name="scores_export"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("<int:pk>/", views.task_detail, name="detail"),
    path("<int:pk>/record/", views.task_record, name="record"),
    path("<int:pk>/assign/", views.task_assign, name="assign"),
    path("<int:pk>/cancel/", views.task_cancel, name="cancel"),
    path("<int:pk>/reopen/", views.task_reopen, name="reopen"),
    path("<int:pk>/flag/", views.task_flag, name="flag"),
]
