"""Hostile owner templates: each one is refused with a reason, quickly and in little memory,
at save time, in the live preview and when rendered for a customer."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from booka_common import templating
from booka_common.templating import MAX_RENDERED_CHARS, TemplateProblem, ToneSettings, render_source
from tests.admin.conftest import Api

HOSTILE = {
    "center filter": ('{{ "x"|center(2000000) }}', "size larger than"),
    "center method": ('{{ "x".center(2000000) }}', "size larger than"),
    "ljust method": ('{{ "x".ljust(9000000) }}', "size larger than"),
    "indent width": ('{{ "x"|indent(2000000, true) }}', "size larger than"),
    "indent by a long string": (
        '{% set s = "a\n" * 3000 %}{{ s|indent("b" * 3000) }}',
        "too large",
    ),
    "wordwrap width": ('{{ "x y"|wordwrap(2000000) }}', "size larger than"),
    "format filter width": ('{{ "%2000000s"|format("x") }}', "wider than"),
    "format filter star width": ('{{ "%*s"|format(2000000, "x") }}', "wider than"),
    "percent operator width": ('{{ "%2000000s" % "x" }}', "wider than"),
    "str.format width": ('{{ "{:>2000000}".format("x") }}', "wider than"),
    "~ doubling": (
        '{% set a = "xxxxxxxxxx" %}' + "{% set a = a ~ a %}" * 18 + "{{ a }}",
        "too large",
    ),
    "+ doubling": (
        '{% set a = "xxxxxxxxxx" %}' + "{% set a = a + a %}" * 18 + "{{ a }}",
        "too large",
    ),
    "* repetition": ("{{ 'x' * 10**9 }}", "too large"),
    "** power": ("{{ 10 ** 100000 }}", "too large"),
    "replace filter growth": (
        '{% set s = "x" * 4000 %}{{ s|replace("x", "y" * 4000) }}',
        "too large",
    ),
    "replace method growth": (
        '{% set s = "x" * 4000 %}{{ s.replace("x", "y" * 4000) }}',
        "too large",
    ),
    "join growth": ('{% set s = "x" * 4000 %}{{ [s, s, s]|join("") }}', "too large"),
    "range size": ("{% for i in range(100000) %}{% endfor %}", "at most 1000 numbers"),
    "nested ranges": (
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "too often",
    ),
    "nested string loops": (
        '{% set s = "x" * 5000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}',
        "too often",
    ),
    "output of a loop": (
        "{% for i in range(1000) %}{% for j in range(100) %}x{% endfor %}{% endfor %}",
        f"longer than {MAX_RENDERED_CHARS}",
    ),
    "recursive macro": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls itself"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_template_is_refused_fast_and_small(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each limit bites on its own: the render's time limit is lifted here (a loaded machine
    under tracemalloc could otherwise hit it first); it has its own test below."""
    monkeypatch.setattr(templating, "MAX_RENDER_S", 5.0)
    source, reason = HOSTILE[name]
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(TemplateProblem, match=reason):
        render_source(source, {}, ToneSettings())
    elapsed, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20, f"{name}: {peak / 2**20:.1f} MiB"
    assert elapsed < 2, (
        f"{name}: {elapsed:.2f} s"
    )  # the budget is 0.25 s; far from any machine's noise


def test_a_render_past_its_time_limit_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templating, "MAX_RENDER_S", 0.001)
    with pytest.raises(TemplateProblem, match="takes longer than"):
        render_source(
            "{% for i in range(1000) %}{% for j in range(100) %}{% endfor %}{% endfor %}",
            {},
            ToneSettings(),
        )


def test_ordinary_templates_keep_working() -> None:
    source = (
        "Hi {{ customer_name }}! {% for i in range(3) %}{{ i }}{% endfor %} {{ 'a' ~ 'b' }} "
        "{{ '%05d'|format(12345) }} {{ [1, 2]|join(', ') }} {{ 'ab'|center(6) }}|{{ 'x' * 3 }}"
    )
    assert (
        render_source(source, {"customer_name": "Rita"}, ToneSettings())
        == "Hi Rita! 012 ab 12345 1, 2   ab  |xxx"
    )


@pytest.mark.parametrize(
    "name", ["center filter", "~ doubling", "nested ranges", "str.format width"]
)
async def test_hostile_templates_are_refused_by_the_preview_and_at_save(
    engine: Api, tenant: str, name: str
) -> None:
    source, reason = HOSTILE[name]
    status, body = await engine.call(
        "POST", f"/v1/tenants/{tenant}/preview", {"template": "greeting", "body": source}
    )
    assert status == 422 and reason in body["message"], body
    status, body = await engine.call(
        "PUT", f"/v1/tenants/{tenant}/templates/greeting", {"body": source}
    )
    assert status == 422 and reason in body["message"], body
    assert (await engine.call("GET", "/api/health"))[0] == 200
