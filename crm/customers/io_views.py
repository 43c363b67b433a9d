"""Excel import/export pages (placeholder until import/export lands)."""

from django.http import HttpRequest, HttpResponse


def import_upload(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def import_review(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def import_template(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def export_customers(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def export_deals(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)
