"""The web side: the REST API (/api/v1, OpenAPI at /openapi.json and /docs), the
server-rendered portal (/portal, Jinja2 + htmx, vendored static files) and the
live dashboard stream (server-sent events from the control loop's LiveBoard).

Every change goes through fuseshare.workflow; this package only translates
HTTP into workflow calls and views into JSON or HTML. Read-only queries the
workflow has no view for (connector states, events, chart history) are in
``queries``.

    app.py            create_app(settings, store, *, board=None, routers=())
    auth.py           sessions, API tokens (Bearer), CSRF
    session_key.py    the session signing key (settings.secret_key or data_dir/session-secret)
    rendering.py      templates and the page context
    progress.py       installation progress per organization (the wizard resumes from it)
    queries.py        read-only queries: connector states, events, chart history
    device_status.py  chargers and meters with connector and live state
    api/              REST routes: accounts, sites (organizations, devices), groups (+ live, history)
    pages/            portal routes: login, account, organizations, devices, groups, wizard, users
    templates/        Jinja2 templates; static/ CSS, dashboard.js, vendor/ (htmx, uPlot)
"""
