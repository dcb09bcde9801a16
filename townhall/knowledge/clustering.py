"""Group unanswered searches into topics: TF-IDF vectors and MiniBatchKMeans (scikit-learn)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class GapCluster:
    label: str
    queries: list[str]
    count: int


def gaps_cluster(queries: Sequence[str], *, clusters: int | None = None) -> list[GapCluster]:
    """Cluster queries into topics, largest first; each labelled by its commonest terms."""
    texts = [q.strip() for q in queries if q.strip()]
    if not texts:
        return []
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", min_df=1)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # only stop words
        return [GapCluster("(other)", texts, len(texts))]
    k = clusters or max(1, min(20, round(len(set(texts)) ** 0.5)))
    k = min(k, matrix.shape[0])
    labels = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3).fit_predict(matrix)
    terms = vectorizer.get_feature_names_out()
    result = []
    for cluster in range(k):
        members = [t for t, label in zip(texts, labels, strict=True) if label == cluster]
        if not members:
            continue
        rows = matrix[[i for i, label in enumerate(labels) if label == cluster]]
        weights = rows.sum(axis=0).A1
        top = [str(terms[i]) for i in weights.argsort()[::-1][:3] if weights[i] > 0]
        distinct = [q for q, _ in Counter(members).most_common()]
        result.append(GapCluster(", ".join(top) or "(other)", distinct, len(members)))
    return sorted(result, key=lambda c: -c.count)
