"""A WeasyPrint URL fetcher that serves the report's bundled assets and nothing else.

WeasyPrint's default fetcher opens any http(s), ftp, data or file URL it meets. A report
renders evidence text written by the audited system, so one unescaped value such as
``<link rel=attachment href=file:///etc/passwd>`` or ``<img src="http://internal/...">``
would make the renderer read local files or call internal services. This fetcher refuses
every URL except files that resolve (after following symlinks) inside the assets folder;
a symlink in that folder pointing elsewhere is refused too.

WeasyPrint 68+ takes a :class:`weasyprint.urls.URLFetcher` subclass; the old function-style
fetchers are gone. Refusals raise :class:`AssetRefused` (a ``ValueError``), which WeasyPrint
logs and treats as a missing resource; ``refused`` records them so tests and callers can see
what the document tried to reach.
"""
from __future__ import annotations

import mimetypes
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

# WeasyPrint warns at import when the system lacks libharfbuzz-subset ("HarfBuzz-Subset will be
# required by future versions"): it then subsets fonts with fontTools, which is what the PDF's
# byte-for-byte reproducibility relies on (SOURCE_DATE_EPOCH, see pdf.py). The warning is advice
# to the packager, not a problem with the report, so only this exact warning is silenced, here,
# where WeasyPrint is first imported.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning)
    from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "assets"


class AssetRefused(ValueError):
    """Raised for any URL outside the report's own assets."""


def _default_assets_dir() -> Path:
    # Installed from a wheel, templates/ is the package golive.templates; in the source tree
    # it sits next to engine/. Prefer the package so both layouts work.
    try:
        import golive.templates as templates_pkg

        pkg_dir = Path(templates_pkg.__file__).resolve().parent / "assets"
        if pkg_dir.is_dir():
            return pkg_dir
    except ImportError:  # pragma: no cover - source checkout without the package mapping
        pass
    return ASSETS_DIR


class AssetOnlyFetcher(URLFetcher):
    """Serve ``file:`` URLs inside ``assets_dir``; refuse everything else.

    Data URLs are refused as well: the templates never need them, and evidence text could
    otherwise smuggle arbitrary images or stylesheets into the document.
    """

    def __init__(self, assets_dir: Path | None = None, **kwargs):
        super().__init__(allowed_protocols=("file",), allow_redirects=False, **kwargs)
        self.assets_dir = (assets_dir or _default_assets_dir()).resolve()
        self.refused: list[str] = []
        self.served: list[str] = []

    def resolve(self, url: str) -> Path:
        """Map an allowed URL to its file, or raise :class:`AssetRefused`."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise AssetRefused(f"report fetcher refuses {url!r}: only bundled assets are served")
        candidate = Path(unquote(parts.path))
        try:
            real = candidate.resolve(strict=True)
        except (FileNotFoundError, RuntimeError, OSError) as exc:
            raise AssetRefused(f"report fetcher refuses {url!r}: {exc}") from None
        if not real.is_relative_to(self.assets_dir) or not real.is_file():
            raise AssetRefused(
                f"report fetcher refuses {url!r}: outside the report assets {self.assets_dir}")
        return real

    def fetch(self, url, headers=None):
        try:
            path = self.resolve(url)
        except AssetRefused:
            self.refused.append(url)
            raise
        self.served.append(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})
