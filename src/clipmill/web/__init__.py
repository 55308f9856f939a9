"""The web UI: server-rendered page shells (Jinja2) and small ES modules that call the JSON API.

No build step and nothing from another origin: every script, style, icon and font is served from
``/static``, and the pages hold no inline script, so the CSP of `clipmill.api.edge` holds.
"""
