"""The project's own models, kept inside the project file: history, the one in use, provenance.

A model is stored only once training has succeeded (storage/training.py returns a
`TrainedModel`; nothing is written before). Each kind ("claims", "entities") has its versions
1, 2, … and at most one in use; `annotate` suggests with the models in use and every suggestion
records which (`suggestion_tag`). Switching models is one transaction, logged in `events`.
The bytes are read back through the models' own versioned readers (never pickle), so a project
file from someone else cannot run code by carrying a model.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from annotation.claim_model import ClaimModel, ClaimModelError
from annotation.entity_learning import EntityModel, EntityModelError
from storage.project import Project, ProjectError, now

KINDS = ("claims", "entities")
FORMATS = {"claims": "credence-claim-model", "entities": "credence-entity-model"}
_COLUMNS = ("id", "kind", "version", "format", "base_model", "documents", "decisions", "scores",
            "provenance", "size", "sha256", "in_use", "created_at", "created_by", "used_at")


class ModelStoreError(ProjectError):
    """A stored model that cannot be used (damaged, foreign, too new) or a choice that does not exist."""


@dataclass
class TrainedModel:
    """A model training produced, not stored yet: what `store_model` writes."""
    kind: str
    data: bytes
    base_model: str
    documents: int
    decisions: int
    scores: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def format(self) -> str:
        return FORMATS[self.kind]


@dataclass
class StoredModel:
    """One row of the model history (without its bytes)."""
    id: int
    kind: str
    version: int
    format: str
    base_model: str
    documents: int
    decisions: int
    scores: dict[str, Any]
    provenance: dict[str, Any]
    size: int
    sha256: str
    in_use: bool
    created_at: str
    created_by: str | None
    used_at: str | None

    @property
    def tag(self) -> str:
        """What suggestions made with it record after the spaCy model's name: "claims-v3"."""
        return f"{self.kind}-v{self.version}"

    def describe(self) -> str:
        return (f"{self.kind} v{self.version}: learned from {self.documents} documents, "
                f"{self.decisions} decisions, {self.created_at[:16].replace('T', ' ')}"
                + (" (in use)" if self.in_use else ""))


def size_text(n: int) -> str:
    """A model's size for people: "740 KB", "6.2 MB"."""
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} KB"


def suggestion_tag(base_version: str, stored: StoredModel | None) -> str:
    """What spans.model / claims.model record: the spaCy model, plus the project model if any."""
    return base_version if stored is None else f"{base_version}+{stored.tag}"


def _row(r: tuple) -> StoredModel:
    d = dict(zip(_COLUMNS, r))
    d["scores"] = _json(d["scores"])
    d["provenance"] = _json(d["provenance"])
    d["in_use"] = bool(d["in_use"])
    return StoredModel(**d)


def _json(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}: one of {', '.join(KINDS)}")


def list_models(project: Project, kind: str | None = None) -> list[StoredModel]:
    """The model history, oldest first (per kind, by version)."""
    sql = f"SELECT {', '.join(_COLUMNS)} FROM models"
    args: tuple = ()
    if kind is not None:
        _check_kind(kind)
        sql += " WHERE kind = ?"
        args = (kind,)
    return [_row(r) for r in project.conn.execute(sql + " ORDER BY kind, version", args)]


def stored_model(project: Project, model_id: int) -> StoredModel:
    r = project.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM models WHERE id = ?",
                             (model_id,)).fetchone()
    if r is None:
        raise ModelStoreError(f"the project has no model {model_id} "
                              "(`python main.py models PROJECT` lists them)")
    return _row(r)


def find_model(project: Project, kind: str, version: int) -> StoredModel:
    """A model by its kind and version ("claims", 3)."""
    _check_kind(kind)
    r = project.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM models WHERE kind = ? AND version = ?",
                             (kind, version)).fetchone()
    if r is None:
        raise ModelStoreError(f"the project has no {kind} model v{version} "
                              "(`python main.py models PROJECT` lists them)")
    return _row(r)


def model_in_use(project: Project, kind: str) -> StoredModel | None:
    """The project's model of this kind that annotation uses, None for the shipped one."""
    _check_kind(kind)
    r = project.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM models WHERE kind = ? AND in_use = 1",
                             (kind,)).fetchone()
    return _row(r) if r else None


def model_data(project: Project, stored: StoredModel) -> bytes:
    r = project.conn.execute("SELECT data FROM models WHERE id = ?", (stored.id,)).fetchone()
    if r is None:
        raise ModelStoreError(f"the project has no model {stored.id}")
    data = bytes(r[0])
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        raise ModelStoreError(f"the project's {stored.kind} model v{stored.version} is damaged "
                              "(its bytes do not match their checksum)")
    return data


# Models read lately, by the checksum of their bytes (content-addressed, so the same in any
# project): each background batch stores through `annotate`, which must not decode the model
# again every time. Only what checked out against its checksum is kept.
_LOADED: OrderedDict[str, ClaimModel | EntityModel] = OrderedDict()
_LOADED_MAX = 4


def load_claim_model(project: Project, stored: StoredModel) -> ClaimModel:
    """A stored claims model, read through ClaimModel.from_bytes (never pickle)."""
    return _load(project, stored, "claims", ClaimModel, ClaimModelError)


def load_entity_model(project: Project, stored: StoredModel) -> EntityModel:
    """A stored entities model, read through EntityModel.from_bytes (never pickle)."""
    return _load(project, stored, "entities", EntityModel, EntityModelError)


def _load(project: Project, stored: StoredModel, kind: str, cls, error: type[Exception]):
    if stored.kind != kind:
        raise ValueError(f"model {stored.id} is a {stored.kind} model, not a {kind} model")
    model = _LOADED.get(stored.sha256)
    if isinstance(model, cls):
        _LOADED.move_to_end(stored.sha256)
        return model
    try:
        model = cls.from_bytes(model_data(project, stored))
    except error as exc:
        raise ModelStoreError(f"the project's {kind} model v{stored.version} cannot be used: {exc}") from None
    _LOADED[stored.sha256] = model
    while len(_LOADED) > _LOADED_MAX:
        _LOADED.popitem(last=False)
    return model


def store_model(project: Project, trained: TrainedModel, *, use: bool = False) -> StoredModel:
    """Keep a trained model in the history (one transaction); with `use`, annotation uses it."""
    _check_kind(trained.kind)
    data = bytes(trained.data)
    with project.atomic():
        version = project.conn.execute("SELECT coalesce(max(version), 0) + 1 FROM models WHERE kind = ?",
                                       (trained.kind,)).fetchone()[0]
        model_id = project.db.table("models").insert({
            "kind": trained.kind, "version": version, "format": trained.format,
            "base_model": trained.base_model, "documents": trained.documents,
            "decisions": trained.decisions,
            "scores": json.dumps(trained.scores, ensure_ascii=False, sort_keys=True),
            "provenance": json.dumps(trained.provenance, ensure_ascii=False, sort_keys=True),
            "data": data, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "in_use": 0, "created_at": now(), "created_by": project.who, "used_at": None}).last_pk
        if model_id is None:  # sqlite-utils sets it after every insert
            raise ModelStoreError("the model was not stored")
        project.log_events([{"action": "store model", "entity": "models", "entity_id": model_id,
                             "document_id": None, "before": None,
                             "after": {"kind": trained.kind, "version": version,
                                       "documents": trained.documents,
                                       "decisions": trained.decisions},
                             "group_id": None}])
        if use:
            _use(project, trained.kind, model_id)
    return stored_model(project, model_id)


def use_model(project: Project, kind: str, model_id: int | None) -> StoredModel | None:
    """Make a stored model the one annotation uses (None: back to the shipped model)."""
    _check_kind(kind)
    if model_id is not None:
        target = stored_model(project, model_id)
        if target.kind != kind:
            raise ModelStoreError(f"model {model_id} is a {target.kind} model, not a {kind} model")
    with project.atomic():
        _use(project, kind, model_id)
    return None if model_id is None else stored_model(project, model_id)


def _use(project: Project, kind: str, model_id: int | None) -> None:
    """Inside the caller's transaction: switch, and log who switched from what to what."""
    old = model_in_use(project, kind)
    if (old.id if old else None) == model_id:
        return
    project.conn.execute("UPDATE models SET in_use = 0 WHERE kind = ? AND in_use = 1", (kind,))
    version = None
    if model_id is not None:
        project.conn.execute("UPDATE models SET in_use = 1, used_at = ? WHERE id = ?",
                             (now(), model_id))
        version = project.conn.execute("SELECT version FROM models WHERE id = ?",
                                       (model_id,)).fetchone()[0]
    project.log_events([{"action": "use model", "entity": "models", "entity_id": model_id,
                         "document_id": None,
                         "before": {"kind": kind, "version": old.version if old else "base"},
                         "after": {"kind": kind, "version": version or "base"},
                         "group_id": None}])


def delete_model(project: Project, model_id: int) -> None:
    """Remove a model from the history (not the one in use: switch away from it first)."""
    stored = stored_model(project, model_id)
    if stored.in_use:
        raise ModelStoreError(f"the {stored.kind} model v{stored.version} is in use: switch to "
                              "another (or the shipped model) before deleting it")
    with project.atomic():
        project.conn.execute("DELETE FROM models WHERE id = ?", (model_id,))
        project.log_events([{"action": "delete model", "entity": "models", "entity_id": model_id,
                             "document_id": None,
                             "before": {"kind": stored.kind, "version": stored.version},
                             "after": None, "group_id": None}])
