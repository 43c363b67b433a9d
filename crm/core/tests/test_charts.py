"""crm.core.charts: one description gives the ECharts option and a table with the same numbers."""

from __future__ import annotations

import json

from django.template import Context, Template

from crm.core.charts import Chart, Series

BARS = Chart(
    "cat", "按类别", "hbar", ["服务质量", "合同"], [Series("本月", [4, 1]), Series("上月", [1, None])], unit="件"
)


def test_the_option_holds_the_categories_and_series():
    option = BARS.option()
    assert option["yAxis"]["data"] == ["服务质量", "合同"]  # horizontal bars: categories on y
    assert [s["data"] for s in option["series"]] == [[4, 1], [1, None]]
    assert option["legend"]["top"] == 0  # two series: a legend
    json.dumps(option)  # plain JSON types only


def test_the_table_has_the_same_numbers():
    table = BARS.table()
    assert table["header"] == ["项目", "本月（件）", "上月（件）"]
    assert table["rows"] == [["服务质量", "4", "1"], ["合同", "1", "—"]]


def test_a_pie_and_a_percentage_axis():
    pie = Chart("p", "渠道", "pie", ["电话", "微信"], [Series("本月", [3, 1])])
    assert pie.option()["series"][0]["data"] == [{"name": "电话", "value": 3}, {"name": "微信", "value": 1}]
    rate = Chart("r", "时效", "bar", ["首次响应"], [Series("本月", [25.0])], unit="%")
    assert rate.option()["yAxis"]["max"] == 100
    assert rate.table()["rows"] == [["首次响应", "25.0"]]


def test_the_tag_renders_json_data_and_an_escaped_table():
    chart = Chart("x", "标题", "bar", ["<b>恶意</b>"], [Series("本月", [2])])
    html = Template("{% load charts %}{% chart c %}{% chart_scripts %}").render(Context({"c": chart}))
    assert '<script id="chart-x-option" type="application/json">' in html
    assert "<b>恶意</b>" not in html
    assert "&lt;b&gt;恶意&lt;/b&gt;" in html
    assert 'data-chart-table="x"' in html
    assert "vendor/echarts/echarts.min.js" in html


def test_no_categories_is_an_empty_chart_with_a_message():
    empty = Chart("e", "空", "bar", [], [Series("本月", [])])
    html = Template("{% load charts %}{% chart c %}").render(Context({"c": empty}))
    assert "暂无数据" in html
    assert "chart-canvas" not in html
