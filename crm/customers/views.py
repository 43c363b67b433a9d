"""Customer and deal pages (placeholder until the UI lands)."""

from django.http import HttpRequest, HttpResponse


def customer_list(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_create(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_bulk(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_detail(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_edit(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_profile(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def family_add(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def note_add(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def reveal(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def consent(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_dispose(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_restore(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def customer_merge(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def deal_list(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def deal_create(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def deal_detail(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)


def deal_cancel(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse('待实现', status=501)
