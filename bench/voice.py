"""Benchmark: the phone assistant's webhook turn (issue 20) — server time per provider
request, which the caller waits on in silence (goal: p95 under 100 ms).

Scripted calls through Django's full handler (middleware, signature, replay claim, rate
limits, the assistant's engine with the real understanding, TwiML): each call is the
greeting, "When is my bin collected?", an address, key 3, and a reference spoken as
words. Measured in the same run, interleaved call by call:

- the SMS webhook turn answering the same question through the same engine (the
  channel the voice hook mirrors), and
- a signed do-nothing voice turn (a step of a call that has ended: signature, replay
  claim, rate limit and one lookup, no engine): the floor of the hook.

Prints p50/p95/p99 per kind of turn, turns/s, and the process's peak memory (RSS).
SQLite in a temporary directory by default (`--database-url` for PostgreSQL); rate limits
counted in memory. `--smoke` runs a few calls to check that everything works.

    python bench/voice.py --help
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.smoke import add_smoke  # noqa: E402

PUBLIC = "https://council.example.org"
TOKEN = "bench-voice-token"  # noqa: S105 (a test signing key)
SMS_TOKEN = "bench-sms-token"  # noqa: S105
TOWN = {
    "jurisdiction": {
        "slug": "benchville",
        "name": "Benchville",
        "open311_id": "benchville.example.org",
        "timezone": "America/New_York",
        "country": "US",
        "subdivision": "MA",
        "centre": {"lat": 42.36, "long": -71.09},
    },
    "calendar": {"name": "Hours", "workdays": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"},
    "departments": [{"code": "dpw", "name": "Public Works"}],
    "groups": [{"code": "streets", "name": "Streets"}],
    "service_types": [
        {
            "code": "pothole",
            "name": "Pothole",
            "group": "streets",
            "department": "dpw",
            "sla": [{"priority": "normal", "hours": 16, "clock": "business"}],
            "attributes": [],
        }
    ],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--calls", type=int, default=200, help="scripted calls timed")
    add_smoke(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.calls = 4
    return args


def setup(args: argparse.Namespace, workdir: str) -> None:
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["REDIS_URL"] = ""
    os.environ["TOWNHALL_VAR_DIR"] = workdir
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "townhall.settings"
    os.environ["TOWNHALL_PUBLIC_URL"] = PUBLIC
    os.environ["TOWNHALL_VOICE_PROVIDER"] = "fake"
    os.environ["TOWNHALL_VOICE_AUTH_TOKEN"] = TOKEN
    os.environ["TOWNHALL_VOICE_CALL_CENTRE"] = "+16175550199"
    os.environ["TOWNHALL_LIVE_CHAT_HOURS"] = "Mon-Sun 00:00-23:59"
    os.environ["TOWNHALL_INTAKE_FALLBACK_SERVICE"] = "pothole"
    # High enough that nothing is refused: the bench measures the turn, not the goodbye.
    big = "100000000/minute"
    os.environ["TOWNHALL_RATE_LIMITS"] = (
        f"hooks={big} voice.target={big} assistant_sms.target={big}"
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.database_url:  # a database of its own (e.g. townhall_voice): emptied first
        call_command("flush", interactive=False, verbosity=0)
    _seed()


def _seed() -> None:
    from django.conf import settings

    from townhall.catalog.services import catalog_import
    from townhall.notify.channels import channel_adapters_reset
    from townhall.places.models import Place
    from townhall.waste.models import Zone, ZonePlace
    from townhall.waste.services import waste_config_set, waste_import_toronto
    from townhall.waste.toronto import toronto_read

    catalog_import(spec=TOWN)
    waste_config_set(country="CA", subdivision="ON", timezone="America/Toronto")
    excerpt = ROOT / "tests" / "waste" / "data" / "toronto-2024-excerpt.csv"
    with excerpt.open(newline="") as handle:
        waste_import_toronto(lines=list(toronto_read(handle)))
    place = Place.objects.create(
        property_id="TO-1",
        address="100 Queen Street West",
        postcode="M5H 2N2",
        lat=43.6525,
        long=-79.3839,
        search_text="100 queen street west",
    )
    ZonePlace.objects.create(place=place, zone=Zone.objects.get(code="Wednesday1"))
    settings.TOWNHALL_CHANNELS = {
        "sms": {
            "BACKEND": "townhall.notify.channels.sms.HttpSmsGateway",
            "OPTIONS": {
                "account_sid": "AC123",
                "auth_token": SMS_TOKEN,
                "from_number": "+16175550100",
            },
        }
    }
    channel_adapters_reset()


class Timed:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def post(
        self, client: Any, kind: str, path: str, params: dict[str, str], **headers: str
    ) -> str:
        started = time.perf_counter()
        response = client.post(path, params, **headers)
        self.samples.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (kind, response.status_code, response.content[:300])
        return str(response.content.decode())


def _voice(timed: Timed, client: Any, kind: str, path: str, params: dict[str, str]) -> str:
    from townhall.hooks.voice_providers import fake_signature

    signature = fake_signature(url=PUBLIC + path, params=params)
    return timed.post(client, kind, path, params, HTTP_X_FAKE_VOICE_SIGNATURE=signature)


def one_call(timed: Timed, client: Any, reference: str, n: int) -> None:
    sid = "CA" + secrets.token_hex(16)
    number = f"+1617555{n % 10000:04d}"
    base = {"CallSid": sid, "From": number, "To": "+16175550100", "CallStatus": "in-progress"}
    heard = _voice(timed, client, "voice: greeting", "/hooks/voice/incoming/", base)
    assert "<Gather" in heard, heard
    turns = [
        ("voice: bin days question", {"SpeechResult": "When is my bin collected?"}),
        ("voice: address", {"SpeechResult": "100 Queen Street West"}),
        ("voice: key 3", {"Digits": "3"}),
        ("voice: spoken reference", {"SpeechResult": _spelled(reference)}),
    ]
    for step, (kind, fields) in enumerate(turns, start=1):
        heard = _voice(timed, client, kind, f"/hooks/voice/turn/?step={step}", {**base, **fields})
        assert "<Gather" in heard, (kind, heard)
    # The floor: a signed step of this call once it has ended (no engine).
    from townhall.assistant.models import Conversation
    from townhall.assistant.services_voice import voice_hash_of

    Conversation.objects.filter(sender_hash=voice_hash_of(number, sid)).update(
        status="closed", outcome="contained"
    )
    heard = _voice(
        timed, client, "reference: ended call (no engine)", "/hooks/voice/turn/?step=5", base
    )
    assert "<Hangup" in heard, heard
    # The SMS webhook: the same question, the same engine, by text.
    from townhall.notify.channels.sms import sms_request_signature

    params = {"From": number, "Body": "When is my bin collected?", "MessageSid": "SM" + sid[2:]}
    path = "/hooks/sms/inbound/"
    signature = sms_request_signature(auth_token=SMS_TOKEN, url=PUBLIC + path, params=params)
    timed.post(client, "reference: sms turn (same question)", path, params,
               HTTP_X_TWILIO_SIGNATURE=signature)  # fmt: skip


def _spelled(reference: str) -> str:
    prefix, year, number = reference.split("-")
    return f"{' '.join(prefix)} {' '.join(year)} dash {' '.join(number)}"


def _reference() -> str:
    from townhall.intake.messages import IncomingMessage, Sender
    from townhall.intake.services import intake_submit

    result = intake_submit(
        IncomingMessage(
            channel="web",
            sender=Sender(email="bench@example.org"),
            text="Pothole on Main Street",
            service_code="pothole",
        )
    )
    assert result.case is not None
    return str(result.case.reference)


def run(args: argparse.Namespace) -> int:
    from django.test import Client

    client = Client()
    reference = _reference()
    warm = Timed()
    one_call(warm, client, reference, 9999)  # loads the understanding model and indexes
    timed = Timed()
    started = time.perf_counter()
    for n in range(args.calls):
        one_call(timed, client, reference, n)
    elapsed = time.perf_counter() - started
    print(
        f"bench/voice.py: {args.calls} scripted calls, "
        f"{'PostgreSQL' if args.database_url.startswith('postgres') else 'SQLite'}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"{'turn':40} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    voice_all: list[float] = []
    for kind, samples in timed.samples.items():
        if kind.startswith("voice"):
            voice_all += samples
        print(f"{kind:40} {len(samples):>5} " + " ".join(f"{v:8.1f}" for v in _pcts(samples)))
    print(
        f"{'voice: every turn':40} {len(voice_all):>5} "
        + " ".join(f"{v:8.1f}" for v in _pcts(voice_all))
    )
    voice_seconds = sum(voice_all) / 1000
    print(f"voice turns/s (one process, serial): {len(voice_all) / voice_seconds:.1f}")
    print(
        f"all requests/s including references: {sum(map(len, timed.samples.values())) / elapsed:.1f}"
    )
    print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    p95 = _pcts(voice_all)[1]
    print(f"p95 every voice turn {p95:.1f} ms: goal < 100 ms {'met' if p95 < 100 else 'NOT met'}")
    return 0


def _pcts(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        value = samples[0] if samples else 0.0
        return value, value, value
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as workdir:
        setup(args, workdir)
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
