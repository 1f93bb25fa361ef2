"""Jinja2 report templates and their CSS/SVG assets."""
