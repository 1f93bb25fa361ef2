"""The JSON format: the results document as the report saw it (waivers applied).

The bytes are the ones the PDF attaches and whose sha256 the evidence appendix prints; the
document is validated against ``engine/schema/results.schema.json`` before it is written, so a
consumer can rely on the documented shape (docs/results-schema.md).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from golive.report.analysis import document_bytes
from golive.report.inputs import ReportInputError
from golive.report.model import RenderModel

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "results.schema.json"


@lru_cache(maxsize=1)
def results_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_document(doc: Mapping[str, Any], what: str = "results document") -> None:
    """Raise :class:`ReportInputError` naming the first invalid field."""
    validator = jsonschema.Draft202012Validator(results_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ReportInputError(f"{what}: {where}: {error.message}")


def write_json(model: RenderModel, out_path: Path) -> Path:
    validate_document(model.document)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(document_bytes(model.document))
    return out_path
