"""Lists' searches by full mobile stay out of URLs (crm.core.search)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.core.search import EXPIRED

SEARCH = reverse("search")


@pytest.mark.parametrize("path", ["/complaints/", "/complaints/consultations/", "/complaints/issues/", "/sms/"])
def test_a_full_mobile_is_kept_out_of_every_lists_url(login, director, path):
    client = login(director)
    response = client.post(SEARCH, {"next": path, "q": "13812345678", "csrfmiddlewaretoken": "x"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(path)
    assert "13812345678" not in location
    assert "csrfmiddlewaretoken" not in location
    page = client.get(location)
    assert page.status_code in (200, 302)
    assert "13812345678" not in page.request["QUERY_STRING"]


def test_the_list_sees_the_number_again(login, director):
    client = login(director)
    location = client.post(SEARCH, {"next": "/complaints/", "q": "13812345678", "state": "open"})["Location"]
    assert "state=open" in location
    page = client.get(location)
    assert page.wsgi_request.GET["q"] == "13812345678"
    assert page.wsgi_request.GET["state"] == "open"


def test_short_fragments_and_names_stay_plain(login, director):
    location = login(director).post(SEARCH, {"next": "/complaints/", "q": "5678"})["Location"]
    assert location == "/complaints/?q=5678"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:alert(1)", ""])
def test_only_paths_of_this_site_are_followed(login, director, target):
    assert login(director).post(SEARCH, {"next": target, "q": "x"}).status_code == 400


def test_an_unknown_token_searches_for_nothing(login, director):
    page = login(director).get("/complaints/", {"qt": "forged"})
    assert page.wsgi_request.GET["q"] == EXPIRED


def test_the_search_is_a_post(login, director):
    assert login(director).get(SEARCH).status_code == 405
