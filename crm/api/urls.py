"""API routes under /api/: token, resources (DefaultRouter), OpenAPI schema and Swagger UI."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import io, views

router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="api-project")
router.register("units", views.UnitViewSet, basename="api-unit")
router.register("customers", views.CustomerViewSet, basename="api-customer")
router.register("deals", views.DealViewSet, basename="api-deal")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Before the router's: its customers/<pk>/ would read "import" as a customer's id.
    *io.urlpatterns,
    *router.urls,
]
