"""The workbench and the menu."""


def test_the_workbench_counts_only_what_the_user_may_see(client, consultant, outsider, make_customer, project_b):
    make_customer("甲", grade="A")
    make_customer("乙", owner=outsider, project=project_b, grade="A")
    client.force_login(consultant)
    stats = client.get("/").context["stats"]
    assert stats["customers"] == 1
    assert stats["grade_a"] == 1


def test_the_menu_shows_only_what_the_role_uses(client, approver, supervisor):
    client.force_login(approver)
    labels = [item["label"] for item in client.get("/").context["menu"]]
    assert "客户" not in labels
    assert "审计日志" not in labels
    client.force_login(supervisor)
    labels = [item["label"] for item in client.get("/").context["menu"]]
    assert "客户" in labels
    assert "审计日志" in labels


def test_a_directors_workbench_counts_are_cached_and_a_consultants_are_fresh(
    client, director, consultant, make_customer, settings
):
    settings.WORKBENCH_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    make_customer("甲")
    client.force_login(director)
    assert client.get("/").context["stats"]["customers"] == 1
    make_customer("乙")
    assert client.get("/").context["stats"]["customers"] == 1  # cached for the wide scope
    client.force_login(consultant)
    assert client.get("/").context["stats"]["customers"] == 2  # own scope: always fresh
    cache.clear()


def test_the_workbench_lists_the_latest_events_of_the_scope_only(
    client, consultant, outsider, make_customer, project_b
):
    mine = make_customer("自己的")
    make_customer("外组的", owner=outsider, project=project_b)
    client.force_login(consultant)
    events = client.get("/").context["card"]["recent_events"].context["events"]
    assert {e.customer_id for e in events} == {mine.pk}
