"""Format dispatch: ``render(fmt, model_or_document, out_path) -> Path``.

Formats contributed by plugins through the ``golive_report_formats`` hook are looked up
after the built-in ones, with the same ``(model, out_path) -> Path`` signature.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from golive.report.inputs import ReportInputError
from golive.report.model import RenderModel, build_render_model

FORMATS = ("pdf", "html", "md", "json", "junit", "oscal")
EXTENSIONS = {"pdf": ".pdf", "html": ".html", "md": ".md", "json": ".json", "junit": ".xml",
              "oscal": ".oscal.json"}


def _writer(fmt: str) -> Callable[[RenderModel, Path], Path]:
    # Imported lazily: WeasyPrint takes a noticeable time to import and only pdf needs it.
    if fmt == "pdf":
        from golive.report.pdf import write_pdf
        return write_pdf
    if fmt == "html":
        from golive.report.html import write_html
        return write_html
    if fmt == "md":
        from golive.report.markdown import write_markdown
        return write_markdown
    if fmt == "json":
        from golive.report.jsonfmt import write_json
        return write_json
    if fmt == "junit":
        from golive.report.junit import write_junit
        return write_junit
    if fmt == "oscal":
        from golive.report.oscal import write_oscal
        return write_oscal
    plugin_formats = _plugin_formats()
    if fmt in plugin_formats:
        return plugin_formats[fmt]
    known = ", ".join([*FORMATS, *plugin_formats])
    raise ReportInputError(f"unknown report format {fmt!r}; choose one of {known}")


def _plugin_formats() -> dict[str, Callable[[RenderModel, Path], Path]]:
    from golive.pluginmanager import create_host

    formats: dict[str, Callable] = {}
    for contribution in create_host().hook.golive_report_formats():
        formats.update(contribution or {})
    return formats


def render(fmt: str, model_or_document: RenderModel | Mapping[str, Any], out_path: Path | str,
           plan: Any = None, previous: Mapping[str, Any] | None = None,
           waivers: Iterable[Mapping[str, Any]] = (), history: Iterable[Mapping[str, Any]] = (),
           proof_bundle: Mapping[str, Any] | None = None, log_vkey: str = "", store_config: Any = None) -> Path:
    """Render one format to ``out_path`` and return it. ``proof_bundle`` (the run's, from
    ``golive.ledger.bundle.make_bundle``) is attached to a PDF and written beside HTML and
    Markdown (:mod:`golive.report.proof`); the appendix shows its checkpoint."""
    writer = _writer(fmt)
    model = model_or_document if isinstance(model_or_document, RenderModel) else \
        build_render_model(model_or_document, plan, previous=previous, waivers=waivers, history=history)
    if proof_bundle is not None:
        model = with_proof(model, fmt, Path(out_path), proof_bundle, log_vkey, store_config)
    return Path(writer(model, Path(out_path)))


def with_proof(model: RenderModel, fmt: str, out_path: Path, bundle: Mapping[str, Any], log_vkey: str = "",
               store_config: Any = None) -> RenderModel:
    """``model`` carrying ``bundle``: PDFs attach it; HTML and Markdown get it as a file beside.
    ``store_config`` (the store's witnesses, golive-store.toml) goes into the verify command."""
    from dataclasses import replace

    from golive.report.proof import bundle_beside, proof_view
    view = proof_view(bundle, log_vkey, store_config)
    if fmt in ("html", "md"):
        beside = bundle_beside(out_path)
        beside.parent.mkdir(parents=True, exist_ok=True)
        beside.write_bytes(view.data)
        view = replace(view, file_name=beside.name)
    elif fmt != "pdf":
        return model  # JSON, JUnit, OSCAL: the bundle is not part of them
    return replace(model, proof=view)


def format_for(path: Path | str) -> str:
    """The format a file name asks for (``report.pdf`` -> ``pdf``, ``junit.xml`` -> ``junit``)."""
    name, suffix = Path(path).name.lower(), Path(path).suffix.lower()
    for fmt, ext in sorted(EXTENSIONS.items(), key=lambda e: -len(e[1])):  # .oscal.json before .json
        if name.endswith(ext) or (fmt == "md" and suffix == ".markdown") or (fmt == "html" and suffix == ".htm"):
            return fmt
    raise ReportInputError(f"cannot tell the report format of {path}: use one of "
                           f"{', '.join(EXTENSIONS.values())}")


def render_to(out_path: Path | str, document: Mapping[str, Any], plan: Any = None, **kwargs: Any) -> Path:
    """Render ``document`` in the format named by ``out_path``'s extension (``golive run
    --report PATH``)."""
    return render(format_for(out_path), document, out_path, plan=plan, **kwargs)
