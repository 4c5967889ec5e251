"""The staff console at /console/: server-rendered pages (Jinja2) for policy staff.

Everything a page needs is served by this service (the intranet reaches no other host). Pages
1–4 (the plan, the measures, the calculator, the progress) show public catalogue data and
aggregate counts; the impact preview, push and disclosure pages need a signed-in session with
the page's scope (service/console/session.py).
"""
