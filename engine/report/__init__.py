"""Audit-ready reports: one render model, five formats (pdf, html, md, json, junit).

``render(fmt, model_or_document, out_path, plan=None, ...)`` writes one format and returns
the path. Give it a :class:`RenderModel` (from :func:`build_render_model`) to render several
formats of the same run with identical figures, or a results document to build the model on
the fly.
"""
from golive.report.inputs import ReportInputError
from golive.report.model import RenderModel, build_render_model
from golive.report.render import FORMATS, format_for, render, render_to

__all__ = ["FORMATS", "RenderModel", "ReportInputError", "build_render_model", "format_for",
           "render", "render_to"]
