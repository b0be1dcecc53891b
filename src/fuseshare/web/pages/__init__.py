"""Server-rendered portal pages (Jinja2 + htmx): partner portal, admin portal, wizard."""
