"""The dashboard's ASGI application: ``create_app(store, secret_key=...)``.

Starlette routes, Jinja2 templates under ``templates/serve/`` (autoescaped), signed session
cookies (``itsdangerous`` through Starlette's SessionMiddleware), a CSRF token on every form and
:mod:`golive.serve.security` headers on every response. Every page needs a signed-in user; each
view is written to the audit log. Nothing here writes to the ledger: the app reads evidence
and writes only its own tables (users, audit log).
"""
from __future__ import annotations

from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import quote

import jinja2
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from golive.plan.framework_coverage import CONCLUSIONS
from golive.report.html import STATUS_LABELS, icon, templates_dir, wrap_points
from golive.serve import auth, frameworks, ledger_status, overview, pages, queries, runindex, schedules, sessions
from golive.serve.security import SecurityHeaders

SESSION_MAX_AGE_S = 8 * 3600
SQLITE_CACHE_KIB = 8192  # per connection (the store's own setting, 64 MiB, is for appending)
COMPARE_CHOICES = 200  # the newest runs the compare form offers (any run id can be typed)
STYLESHEETS = {"report.css": ("assets", "report.css"), "serve.css": ("serve", "serve.css")}
Handler = Callable[[Request], Response]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(status_labels=STATUS_LABELS, icon=icon, roles=auth.ROLES, conclusions=CONCLUSIONS,
                       conclusion_css=frameworks.css)
    env.filters["wrap"] = wrap_points
    env.filters["pct"] = lambda rate: "—" if rate is None else f"{round(float(rate) * 100)}%"
    env.filters["short"] = lambda value, n=12: str(value)[:n]
    env.filters["q"] = lambda value: quote(str(value), safe="")
    return env


def create_app(store, *, secret_key: str, behind_tls: bool = False,
               throttle: auth.LoginThrottle | None = None, user_header: str | None = None) -> Starlette:
    """The dashboard over ``store`` (a :class:`golive.ledger.store.Store`). With ``user_header``,
    a request carrying that header (set by an authenticating reverse proxy) is signed in as the
    user it names, who must exist in ``serve_users`` (their role applies)."""
    auth.ensure_tables(store)
    templates = Jinja2Templates(env=environment())
    index = runindex.RunIndex(store)
    if store.is_sqlite:  # pages read a few rows each: a small page cache keeps the server's memory flat
        event.listen(store.engine, "connect", _small_sqlite_cache)
        store.engine.dispose()  # connections opened so far keep the store's large cache: drop them
    throttle = throttle or auth.LoginThrottle()

    def render(request: Request, name: str, status: int = 200, **context) -> Response:
        session = request.session
        by_proxy = getattr(request.state, "proxy_user", None)
        context.update(user=by_proxy or session.get("user"), role=getattr(request.state, "role", None) or
                       session.get("role"), csrf=auth.csrf_token(session), by_proxy=bool(by_proxy))
        return templates.TemplateResponse(request, f"serve/{name}", context, status_code=status)

    def client(request: Request) -> str:
        return request.client.host if request.client else ""

    def page(needed: str, action: str = "view") -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        """Wrap a handler: sign-in required, role checked, the view written to the audit log.
        The handler and the database work run in the thread pool, not on the event loop."""
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            def guarded(request: Request) -> Response:
                proxied = request.headers.get(user_header, "").strip() if user_header else ""
                if proxied:
                    name, role = proxied, auth.role_of(store, proxied)
                else:  # the server-side session decides: signed out, removed or disabled users are gone
                    name, role = sessions.user_of(store, request.session.get("sid")) or (None, None)
                path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if role is None and proxied:
                    auth.record(store, proxied[:64], "", "refused", path, 403, client(request))
                    return render(request, "error.html.j2", 403, title="Not allowed",
                                  message="The proxy signed you in as a user this dashboard does not know.")
                if role is None:
                    request.session.clear()
                    return RedirectResponse(f"/login?next={quote(path, safe='')}", status_code=303)
                if proxied:
                    request.state.proxy_user, request.state.role = proxied, role
                else:
                    request.session["role"] = role
                if not auth.allows(role, needed):
                    auth.record(store, name, role, "refused", path, 403, client(request))
                    return render(request, "error.html.j2", 403, title="Not allowed",
                                  message=f"This page needs the {needed} role; you are signed in as {role}.")
                response = handler(request)
                auth.record(store, name, role, action, path, response.status_code, client(request))
                return response

            async def endpoint(request: Request) -> Response:
                return await run_in_threadpool(guarded, request)
            return endpoint
        return wrap

    def not_found(request: Request, what: str) -> Response:
        return render(request, "error.html.j2", 404, title="Not found", message=what)

    # --- sign-in -------------------------------------------------------------------------
    async def login_form(request: Request) -> Response:
        return render(request, "login.html.j2", next=_local(request.query_params.get("next")), error="")

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name") or "")[:64], str(form.get("password") or "")
        target = _local(form.get("next"))
        if not auth.csrf_ok(request.session, form.get("csrf")):
            return render(request, "login.html.j2", 403, next=target,
                          error="The form expired (its security token does not match); please sign in again.")
        if throttle.blocked(name, client(request)):
            await run_in_threadpool(auth.record, store, name, "", "login-throttled", "/login", 429, client(request))
            return render(request, "login.html.j2", 429, next=target,
                          error="Too many failed sign-ins; wait 15 minutes and try again.")
        role = await run_in_threadpool(auth.authenticate, store, name, password)  # argon2 takes ~50 ms
        if role is None:
            throttle.failed(name, client(request))
            await run_in_threadpool(auth.record, store, name, "", "login-failed", "/login", 401, client(request))
            return render(request, "login.html.j2", 401, next=target, error="Unknown user name or wrong password.")
        throttle.succeeded(name)
        request.session.clear()  # a fresh session (and CSRF token) at every sign-in
        sid = await run_in_threadpool(sessions.start, store, name, SESSION_MAX_AGE_S)
        request.session.update(user=name, role=role, sid=sid)
        auth.csrf_token(request.session)
        await run_in_threadpool(auth.record, store, name, role, "login", "/login", 303, client(request))
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        form = await request.form()
        if not auth.csrf_ok(request.session, form.get("csrf")):
            return render(request, "error.html.j2", 403, title="Refused",
                          message="The sign-out form's security token does not match; reload the page and try again.")
        name = request.session.get("user")
        if name:
            await run_in_threadpool(auth.record, store, name, request.session.get("role", ""), "logout", "/logout",
                                    303, client(request))
        await run_in_threadpool(sessions.end, store, request.session.get("sid"))  # a copied cookie dies too
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # --- pages ---------------------------------------------------------------------------
    @page("viewer")
    def runs(request: Request) -> Response:
        data = pages.runs_page(index, pages.RunFilters.of(request.query_params), _int(request.query_params.get("page")))
        return render(request, "runs.html.j2", p=data, query=_query(request, drop="page"))

    @page("viewer")
    def run(request: Request) -> Response:
        summary = index.get(request.path_params["run_id"])
        if summary is None:
            return not_found(request, "No run with this id is recorded in the ledger.")
        return render(request, "run.html.j2", p=pages.run_page(store, summary, request.query_params))

    @page("viewer")
    def requirement(request: Request) -> Response:
        summary = index.get(request.path_params["run_id"])
        data = summary and pages.requirement_page(store, summary, request.path_params["requirement_id"])
        if not data:
            return not_found(request, "This run recorded no result for this requirement.")
        return render(request, "requirement.html.j2", p=data)

    @page("viewer")
    def run_frameworks(request: Request) -> Response:
        summary = index.get(request.path_params["run_id"])
        if summary is None:
            return not_found(request, "No run with this id is recorded in the ledger.")
        selected = str(request.query_params.get("framework") or "")[:100]
        return render(request, "frameworks.html.j2", p=frameworks.frameworks_page(store, summary, selected))

    @page("viewer")
    def latest_frameworks(request: Request) -> Response:
        # the newest run of the whole plan: a later --only slice would show most items unobserved
        newest = (index.page_where("status = 'finished' AND selection = '[]'", {}, 1)
                  or index.newest(1, runindex.RunFilters(status="finished")))
        if not newest:
            return not_found(request, "No finished run is recorded yet: framework coverage needs a run's results.")
        return RedirectResponse(f"/runs/{quote(newest[0].id, safe='')}/frameworks", status_code=303)

    @page("viewer")
    def compare(request: Request) -> Response:
        recent = index.newest(COMPARE_CHOICES)
        a, b = index.get(request.query_params.get("a", "")), index.get(request.query_params.get("b", ""))
        if a is None or b is None:
            return render(request, "compare.html.j2", c=None, runs=recent,
                          a=request.query_params.get("a", ""), b=request.query_params.get("b", ""))
        offered = recent + [r for r in (a, b) if all(o.id != r.id for o in recent)]  # older picks stay selected
        return render(request, "compare.html.j2", c=pages.compare(store, a, b), runs=offered, a=a.id, b=b.id)

    @page("viewer")
    def trends(request: Request) -> Response:
        filters = pages.RunFilters.of(request.query_params)
        menus = index.choices()
        return render(request, "trends.html.j2", series=overview.trends(index, filters), f=filters,
                      plans=menus["plans"], targets=menus["targets"])

    @page("viewer")
    def ledger(request: Request) -> Response:
        return render(request, "ledger.html.j2", s=ledger_status.ledger_status(store))

    @page("viewer")
    def jobs(request: Request) -> Response:
        return render(request, "schedules.html.j2", s=schedules.schedules(store))

    @page("auditor", action="download")
    def artifact(request: Request) -> Response:
        blob = queries.recorded_blob(store, request.path_params["sha256"])
        if blob is None:
            return not_found(request, "No recorded result lists an artifact with this digest.")
        body = queries.read_blob(store, blob)
        if body is None:
            return render(request, "error.html.j2", 409, title="Artifact damaged",
                          message="The stored copy is missing or no longer matches its digest; "
                                  "run `golive evidence verify` to see what happened to the store.")
        # never rendered by the browser: a generic type and an attachment, whatever the file holds
        return StreamingResponse(body, media_type="application/octet-stream", headers={
            "content-disposition": f"attachment; filename=\"{_ascii_name(blob.name)}\"; "
                                   f"filename*=UTF-8''{quote(blob.name, safe='')}",
            "x-golive-sha256": blob.sha256})

    @page("admin")
    def audit(request: Request) -> Response:
        number = _int(request.query_params.get("page"))
        return render(request, "audit.html.j2", entries=auth.audit_log(store, 100, (number - 1) * 100), page=number)

    @page("admin")
    def users(request: Request) -> Response:
        return render(request, "users.html.j2", users=auth.list_users(store))

    async def stylesheet(request: Request) -> Response:
        known = STYLESHEETS.get(request.path_params["name"])  # a fixed list: no path from the request
        if known is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(Path(templates_dir()) / known[0] / known[1], media_type="text/css")

    async def home(request: Request) -> Response:
        return RedirectResponse("/runs", status_code=303)

    routes = [
        Route("/", home), Route("/login", login_form, methods=["GET"]), Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]), Route("/runs", runs), Route("/runs/{run_id}", run),
        Route("/runs/{run_id}/requirements/{requirement_id}", requirement), Route("/compare", compare),
        Route("/runs/{run_id}/frameworks", run_frameworks), Route("/frameworks", latest_frameworks),
        Route("/trends", trends), Route("/ledger", ledger), Route("/schedules", jobs),
        Route("/artifacts/{sha256}", artifact), Route("/admin/audit", audit), Route("/admin/users", users),
        Route("/static/{name}", stylesheet),
    ]
    async def store_failed(request: Request, exc: Exception) -> Response:
        # no traceback and no database URL (it may hold a password) in the page
        return render(request, "error.html.j2", 503, title="Evidence store unavailable",
                      message=f"The evidence store cannot be read ({type(exc).__name__}); "
                              "check the database and run `golive evidence verify`.")

    return Starlette(routes=routes, exception_handlers={SQLAlchemyError: store_failed, OSError: store_failed},
                     middleware=[
        Middleware(SecurityHeaders, behind_tls=behind_tls),
        Middleware(SessionMiddleware, secret_key=secret_key, session_cookie="golive_session",
                   max_age=SESSION_MAX_AGE_S, same_site="lax", https_only=behind_tls),
    ])


def _small_sqlite_cache(dbapi_conn, _record) -> None:  # noqa: ANN001 -- DBAPI objects
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.close()


def _local(target) -> str:
    """``target`` when it is a path on this site, else ``/runs`` (no open redirects)."""
    text = str(target or "")
    return text if text.startswith("/") and not text.startswith(("//", "/\\")) else "/runs"


def _int(value) -> int:
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1


def _query(request: Request, drop: str) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}"
                    for k, v in request.query_params.multi_items() if k != drop)


def _ascii_name(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)[:120] or "artifact"
