from django.urls import path

from crm.customers import io_views, trust_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("search/", views.customer_search, name="search"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk, name="bulk"),
    path("count/", views.customer_list_count, name="list_count"),
    path("options/<str:field>/", views.list_options, name="list_options"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/profile/", views.customer_profile, name="profile"),
    path("<int:pk>/family/add/", views.family_add, name="family_add"),
    path("<int:pk>/note/", views.note_add, name="note_add"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/consent/", views.consent, name="consent"),
    path("<int:pk>/dispose/", views.customer_dispose, name="dispose"),
    path("<int:pk>/restore/", views.customer_restore, name="restore"),
    path("<int:pk>/merge/", views.customer_merge, name="merge"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/cancel/", views.deal_cancel, name="deal_cancel"),
    path("import/", io_views.import_upload, name="import"),
    path("import/<int:pk>/", io_views.import_review, name="import_review"),
    path("import/<int:pk>/progress/", io_views.import_progress, name="import_progress"),
    path("import/template/<str:kind>/", io_views.import_template, name="import_template"),
    path("export/", io_views.export_customers, name="export"),
    path("deals/export/", io_views.export_deals, name="deal_export"),
    path("exports/", trust_views.export_list, name="exports"),
    path("exports/<int:pk>/decide/", trust_views.export_decide, name="export_decide"),
    path("exports/<int:pk>/download/", trust_views.export_download, name="export_download"),
    path("alerts/", trust_views.alert_list, name="alerts"),
    path("alerts/<int:pk>/resolve/", trust_views.alert_resolve, name="alert_resolve"),
]
