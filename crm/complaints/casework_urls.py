"""Routes of 咨询, 首问事项 and 媒体监督, included in the complaints namespace."""

from django.urls import path

from crm.complaints import consultation_views as cv
from crm.complaints import issue_views as iv
from crm.complaints import media_views as mv

urlpatterns = [
    path("consultations/", cv.consultation_list, name="consultation_list"),
    path("consultations/new/", cv.consultation_new, name="consultation_new"),
    path("consultations/export/", cv.consultation_export, name="consultation_export"),
    path("consultations/summary/", cv.consultation_summary, name="consultation_summary"),
    path("consultations/summary/export/", cv.consultation_summary_export, name="consultation_summary_export"),
    path("consultations/<int:pk>/", cv.consultation_detail, name="consultation_detail"),
    path("consultations/<int:pk>/complaint/", cv.consultation_to_complaint, name="consultation_to_complaint"),
    path("issues/", iv.issue_list, name="issue_list"),
    path("issues/new/", iv.issue_new, name="issue_new"),
    path("issues/export/", iv.issue_export, name="issue_export"),
    path("issues/from-complaint/<int:complaint_pk>/", iv.issue_from_complaint, name="issue_from_complaint"),
    path("issues/<int:pk>/", iv.issue_detail, name="issue_detail"),
    path("issues/<int:pk>/hand-off/", iv.issue_hand_off, name="issue_hand_off"),
    path("issues/<int:pk>/hand-offs/<int:hand_off_pk>/answer/", iv.issue_answer, name="issue_answer"),
    path("issues/<int:pk>/hand-offs/<int:hand_off_pk>/escalate/", iv.issue_escalate, name="issue_escalate"),
    path("issues/<int:pk>/callback/", iv.issue_callback, name="issue_callback"),
    path("issues/<int:pk>/<slug:verb>/", iv.issue_move, name="issue_move"),
    path("media/", mv.media_review, name="media_review"),
    path("media/<int:medium_pk>/check/", mv.media_check, name="media_check"),
    path("media/findings/", mv.finding_list, name="finding_list"),
    path("media/findings/new/", mv.finding_new, name="finding_new"),
    path("media/findings/export/", mv.finding_export, name="finding_export"),
    path("media/findings/<int:pk>/", mv.finding_detail, name="finding_detail"),
    path("media/findings/<int:pk>/respond/", mv.finding_respond, name="finding_respond"),
    path("media/findings/<int:pk>/complaint/", mv.finding_to_complaint, name="finding_to_complaint"),
    path("media/findings/<int:pk>/issue/", mv.finding_to_issue, name="finding_to_issue"),
]
