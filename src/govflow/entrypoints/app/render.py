"""Rendering the members' app: one Jinja environment, the page's language and text size.

Chinese unless the person chose English (``?lang=en`` once, then a cookie); a large-text mode
for older residents (``?text=large``, then a cookie). Each page module keeps its own words in a
``{"zh": {...}, "en": {...}}`` dict and passes it to :func:`page`, which adds the words every
page shares (:data:`COMMON`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

LANGS = ("zh", "en")
LANG_COOKIE = "gf_lang"
TEXT_COOKIE = "gf_text"
YEAR = 365 * 24 * 3600

Words = dict[str, dict[str, str]]

COMMON: Words = {
    "zh": {
        "app": "议事通",
        "tasks": "我的待办",
        "board": "公示栏",
        "sign_out": "退出登录",
        "sign_in": "登录",
        "language": "English",
        "large_text": "大字模式",
        "normal_text": "标准字号",
        "submit": "提交",
        "simulated": "演示服务器：此处的日期和期限为模拟时间，不具效力。",
        "signed_in_as": "当前用户：",
    },
    "en": {
        "app": "govflow",
        "tasks": "My tasks",
        "board": "Public board",
        "sign_out": "Sign out",
        "sign_in": "Sign in",
        "language": "中文",
        "large_text": "Large text",
        "normal_text": "Normal text",
        "submit": "Submit",
        "simulated": "Demo server: dates and deadlines here are simulated and have no effect.",
        "signed_in_as": "Signed in as ",
    },
}

ENV = Environment(
    loader=PackageLoader("govflow.entrypoints", "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def lang_of(request: Request) -> str:
    """The page's language: ``?lang=`` if given and known, else the cookie, else Chinese."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    saved = request.cookies.get(LANG_COOKIE)
    return saved if saved in LANGS else "zh"


def large_of(request: Request) -> bool:
    asked = request.query_params.get("text")
    if asked in ("large", "normal"):
        return asked == "large"
    return request.cookies.get(TEXT_COOKIE) == "large"


def words(request: Request, own: Words | None = None) -> dict[str, str]:
    """The words of a page in the request's language: the shared ones and the page's own."""
    lang = lang_of(request)
    return {**COMMON[lang], **(own or {}).get(lang, {})}


def when(value: datetime | None, timezone: str) -> str:
    """A moment in the council's time zone, as people read it (``2026-12-02 18:00``)."""
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if value else "—"


def time_left(deadline: datetime | None, now: datetime, lang: str) -> str:
    """The time until ``deadline`` as people say it: 还剩 2 天 5 小时 / 2 days 5 hours left."""
    if deadline is None:
        return ""
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return "已到期" if lang == "zh" else "past its deadline"
    days, hours, minutes = seconds // 86_400, seconds % 86_400 // 3600, seconds % 3600 // 60
    units = [(days, "day"), (hours, "hour")] if days or hours else [(max(minutes, 1), "minute")]
    units = [(n, unit) for n, unit in units if n]
    if lang == "zh":
        zh = {"day": "天", "hour": "小时", "minute": "分钟"}
        return "还剩 " + " ".join(f"{n} {zh[unit]}" for n, unit in units)
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in units) + " left"


def page(
    request: Request,
    template: str,
    own: Words | None = None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with the page's words (``t``), language, text size and the helpers
    every app template uses; remember a language or text size asked for in the query."""
    lang, large = lang_of(request), large_of(request)
    params = dict(request.query_params)
    params.pop("lang", None)
    switch_lang = (
        request.url.path + "?" + urlencode({**params, "lang": "en" if lang == "zh" else "zh"})
    )
    params.pop("text", None)
    switch_text = (
        request.url.path + "?" + urlencode({**params, "text": "normal" if large else "large"})
    )
    html = ENV.get_template(template).render(
        t=words(request, own),
        lang=lang,
        large=large,
        switch_lang=switch_lang,
        switch_text=switch_text,
        demo=bool(getattr(request.app.state, "demo", False)),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # personal pages: never in a shared cache
    # No page of the app in another site's frame (a tap on a disguised button: clickjacking).
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=YEAR, samesite="lax", httponly=True)
    if request.query_params.get("text") in ("large", "normal"):
        response.set_cookie(
            TEXT_COOKIE, "large" if large else "normal", max_age=YEAR, samesite="lax", httponly=True
        )
    return response
