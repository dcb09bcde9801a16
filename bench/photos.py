"""Benchmark: photo recognition (townhall.vision) on the real photos this machine has.

Times per photo, in one process, single-threaded onnxruntime (as the web workers run it):
- reference: decoding and resizing only (what any photo check costs anyway);
- tag_image's work: decode + resize + EfficientNet-Lite0 + tag scoring;
each on the real photos at their own size (400-640 px) and on a phone-sized JPEG (a real
photo upscaled to 4032x3024: its pixels are not new, only the decode cost is realistic).
Prints p50/p95 ms, photos/s, the process's peak memory, and the accuracy table:

- the backbone on real photos with a known ImageNet class (does it see what it should);
- the default tag set's prior on them (which council tags it raises: ideally only
  "vehicle" on the motorbike and nothing on a cat, coffee, a rocket, a palace, a flower);
- prior against a head trained the way staff feedback trains it, on crops/mirrors of the
  photos and tested on other crops with colour and light changes. This is re-recognition
  of the same subjects, NOT accuracy on council photos: none are on this machine.

Photos: tests/vision/photos (shipped, CC0/public domain), scikit-learn's two sample photos
(CC BY 2.0, installed with Townhall), and scikit-image's data photos when its wheel is
found on this machine (BENCH_SKIMAGE_WHEEL), read from the wheel, never copied.

    .venv/bin/python bench/photos.py [--repeat 20] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import os
import resource
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# name -> (expected ImageNet classes, expected council tag or None)
EXPECTED: dict[str, tuple[set[int], str | None]] = {
    "cat": ({281, 282, 283, 284, 285}, None),
    "coffee": ({967, 968, 504}, None),  # espresso, cup, coffee mug
    "rocket": ({657, 744, 812}, None),  # missile, projectile, space shuttle
    "china": ({698, 442, 449}, None),  # palace, bell cote, boathouse
    "flower": ({985}, None),  # daisy
    "motorcycle": ({665, 670}, "vehicle"),  # moped, motor scooter
    "chelsea": ({281, 282, 283, 284, 285}, None),
    "astronaut": (set(), None),
    "horse": ({339}, None),  # sorrel (a silhouette drawing: expected to fail)
}


def real_photos() -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for path in sorted((ROOT / "tests" / "vision" / "photos").glob("*.jpg")):
        found.append((path.stem, path.read_bytes()))
    import sklearn.datasets

    images = Path(sklearn.datasets.__file__).parent / "images"
    for name in ("china", "flower"):
        if (images / f"{name}.jpg").exists():
            found.append((name, (images / f"{name}.jpg").read_bytes()))
    wheel = os.environ.get("BENCH_SKIMAGE_WHEEL") or next(
        iter(glob.glob("/opt/pypi*/files/scikit_image-*.whl")), ""
    )
    if wheel and Path(wheel).exists():
        with zipfile.ZipFile(wheel) as z:
            for stem, member in (
                ("motorcycle", "skimage/data/motorcycle_left.png"),
                ("chelsea", "skimage/data/chelsea.png"),
                ("astronaut", "skimage/data/astronaut.png"),
                ("horse", "skimage/data/horse.png"),
            ):
                with contextlib.suppress(KeyError):
                    found.append((stem, z.read(member)))
    return found


def phone_sized(data: bytes) -> bytes:
    from PIL import Image

    im = Image.open(io.BytesIO(data)).convert("RGB").resize((4032, 3024))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def _timed(action: Callable[[], Any], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _augment(data: bytes, i: int, *, test: bool) -> bytes:
    from PIL import Image, ImageEnhance, ImageOps

    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    d = int(min(w, h) * (0.04 * i + (0.02 if test else 0)))
    im = im.crop((d, d // 2, w - d // 2, h - d))
    if i % 2:
        im = ImageOps.mirror(im)
    if test:
        im = ImageEnhance.Brightness(im).enhance(0.7 + 0.15 * i)
        im = ImageEnhance.Color(im).enhance(0.6 + 0.2 * i)
        im = im.rotate(4 * (i - 1), resample=Image.Resampling.BILINEAR, expand=False)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from smoke import add_smoke, apply_smoke  # bench/smoke.py

    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, repeat=2)
    import numpy as np

    from townhall.vision import engine
    from townhall.vision.backbone import get_backbone
    from townhall.vision.defaults import DEFAULT_TAGS
    from townhall.vision.engine import TagSpec, fit_head

    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    get_backbone()
    load_s = time.perf_counter() - started
    rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tags = [
        TagSpec(code, label, service or None, 0.45, 0.6, tuple(classes))
        for code, label, service, classes in DEFAULT_TAGS
    ]
    photos = real_photos()
    if args.smoke:
        photos = photos[:3]
    big = phone_sized(photos[0][1])
    print(f"model: efficientnet-lite0, built and loaded in {load_s:.2f} s")
    print(f"photos: {len(photos)} real ({', '.join(n for n, _ in photos)}), + 1 phone-sized")

    def full(data: bytes) -> None:
        features, probs = engine.embed([engine.image_array(data)])
        engine.tag_scores(features[0], probs[0], tags, None)

    rows: list[tuple[str, list[float]]] = []
    for label, sample in (("real photos", [d for _, d in photos]), ("4032x3024 jpeg", [big])):
        ref: list[float] = []
        tag: list[float] = []
        for data in sample:
            ref += _timed(lambda data=data: engine.image_array(data), args.repeat)
            tag += _timed(lambda data=data: full(data), args.repeat)
        rows.append((f"decode+resize only, {label}", ref))
        rows.append((f"tag_image work, {label}", tag))
    print(f"\n{'what':40} {'p50 ms':>8} {'p95 ms':>8} {'photos/s':>9}")
    for name, values in rows:
        rate = 1000 / statistics.mean(values)
        print(f"{name:40} {_pct(values, 0.5):8.1f} {_pct(values, 0.95):8.1f} {rate:9.1f}")
    rss_end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: {rss_end:.0f} MB (before the model {rss_start:.0f} MB, "
        f"after loading it {rss_model:.0f} MB)"
    )

    # Accuracy: the backbone and the prior on real photos.
    arrays = {name: engine.image_array(data) for name, data in photos}
    feats, probs = engine.embed(list(arrays.values()))
    print(f"\n{'photo':12} {'imagenet top1':>13} {'top5':>5}  {'prior tags (expected)':30}")
    top1 = top5 = known = tag_right = 0
    for i, name in enumerate(arrays):
        classes, expected_tag = EXPECTED.get(name, (set(), None))
        order = np.argsort(-probs[i])
        hit1 = int(order[0]) in classes
        hit5 = bool(classes & {int(c) for c in order[:5]})
        if classes:
            known += 1
            top1 += hit1
            top5 += hit5
        scores = engine.tag_scores(feats[i], probs[i], tags, None)
        raised = sorted(t for t, s in scores.items() if s >= 0.45)
        right = raised == ([expected_tag] if expected_tag else [])
        tag_right += right
        print(
            f"{name:12} {('yes' if hit1 else 'no') if classes else '-':>13} "
            f"{('yes' if hit5 else 'no') if classes else '-':>5}  "
            f"{(', '.join(raised) or 'none')} ({expected_tag or 'none'}) {'ok' if right else 'WRONG'}"
        )
    if known:
        print(f"imagenet top-1 {top1}/{known}, top-5 {top5}/{known}")
    print(f"prior tag accuracy {tag_right}/{len(arrays)}")

    # Prior against a head trained on feedback (re-recognition of the same subjects).
    n_train, n_test = (2, 1) if args.smoke else (4, 3)
    train_x, train_y, test_x, test_y = [], [], [], []
    for name, data in photos:
        for i in range(n_train):
            train_x.append(engine.image_array(_augment(data, i, test=False)))
            train_y.append(name)
        for i in range(n_test):
            test_x.append(engine.image_array(_augment(data, i, test=True)))
            test_y.append(name)
    fx, _ = engine.embed(train_x)
    tx, tp = engine.embed(test_x)
    head, _ = fit_head(fx, train_y)
    pred = [head.labels[int(k)] for k in np.argmax(head.probs(tx), axis=1)]
    head_acc = sum(p == y for p, y in zip(pred, test_y, strict=True)) / len(test_y)
    # the prior's version of "same subject": the same ImageNet top-1 class as the original
    base = {name: int(np.argmax(probs[i])) for i, name in enumerate(arrays)}
    prior_acc = sum(int(np.argmax(p)) == base[y] for p, y in zip(tp, test_y, strict=True)) / len(
        test_y
    )
    print(
        f"\nre-recognition on {len(test_y)} altered copies ({len(photos)} subjects, head "
        f"trained on {len(train_y)} crops): head accuracy {head_acc:.2f}, "
        f"backbone top-1 unchanged {prior_acc:.2f}"
    )
    if args.smoke:
        print("smoke: ok")


if __name__ == "__main__":
    main()
