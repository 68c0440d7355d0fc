"""PDF rendering shared by order forms and invoices."""

from pathlib import Path
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

STATIC_DIR = Path(settings.STATICFILES_DIRS[0]).resolve()


class StaticFilesOnlyFetcher(weasyprint.urls.URLFetcher):
    """Loads the portal's own static files and nothing else.

    Documents link their stylesheet relative to the static folder. A name or an
    address typed by a customer can then never make the renderer read another
    local file or reach the network.
    """

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if path.is_relative_to(STATIC_DIR) and path.is_file():
                return super().fetch(path.as_uri(), headers)
        raise ValueError(f"Documents load only the portal's static files, not {url}")


def pdf_render(*, template, context, language):
    """Render a template to PDF bytes in the given language."""
    with translation.override(language):
        html = render_to_string(template, {"language": language, **context})
    document = weasyprint.HTML(
        string=html,
        base_url=STATIC_DIR.as_uri() + "/",
        url_fetcher=StaticFilesOnlyFetcher(),
    )
    return document.write_pdf()
