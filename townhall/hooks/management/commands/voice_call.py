"""`townhall voice_call`: a phone call to the assistant in the terminal, for the demo.

The fake provider (hooks/voice_providers.py) calls our own voice webhooks in-process,
signed as a provider would, and prints what the caller would hear. Type words (speech) or
keys ("press 1"); an empty line is silence; Ctrl-D hangs up. Nothing is sent anywhere.
"""

from __future__ import annotations

import secrets
import sys
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client, override_settings

from townhall.hooks.voice_providers import fake_signature


class Command(BaseCommand):
    help = __doc__.splitlines()[0] if __doc__ else ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="caller", default="+16175550142")
        parser.add_argument("--to", default="+16175550100")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:  # it writes real conversations (and cases, if reported)
            raise CommandError("voice_call is for the demo and development, not production")
        token = secrets.token_hex(16)  # this run's own signing key
        voice = settings.TOWNHALL_VOICE._replace(provider="fake", auth_token=token)
        with override_settings(TOWNHALL_VOICE=voice, ALLOWED_HOSTS=["testserver"]):
            self._call(options["caller"], options["to"])

    def _call(self, caller: str, to: str) -> None:
        client = Client()
        base = {"CallSid": "CA" + secrets.token_hex(16), "From": caller, "To": to}
        url = settings.TOWNHALL_PUBLIC_URL.rstrip("/") + "/hooks/voice/incoming/"
        root = self._post(client, url, {**base, "CallStatus": "ringing"})
        while root is not None:
            gather, record = root.find("Gather"), root.find("Record")
            if gather is None and record is None:
                return
            self.stdout.write("> ", ending="")
            self.stdout.flush()
            line = sys.stdin.readline()
            if not line:
                self.stdout.write("(hung up)")
                return
            words = line.strip()
            if record is not None:
                fields = {"RecordingUrl": "https://example.invalid/recording", "Digits": "#"}
                root = self._post(client, record.attrib["action"], {**base, **fields})
                continue
            assert gather is not None
            if words.lower().startswith("press "):
                fields = {"Digits": words[6:].strip()}
            else:
                fields = {"SpeechResult": words, "Confidence": "0.9"} if words else {}
            root = self._post(client, gather.attrib["action"], {**base, **fields})

    def _post(self, client: Client, url: str, params: dict[str, str]) -> ET.Element | None:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = fake_signature(url=url, params=params)
        response = client.post(path, params, HTTP_X_FAKE_VOICE_SIGNATURE=signature)
        root = ET.fromstring(response.content)  # noqa: S314 (our own TwiML, in-process)
        for verb in root.iter():
            if verb.tag == "Say" and verb.text:
                self.stdout.write(f"[{verb.attrib.get('language', '')}] {verb.text}")
            elif verb.tag == "Dial":
                self.stdout.write(f"(put through to {verb.text})")
            elif verb.tag == "Record":
                self.stdout.write("(beep: recording; type your message)")
            elif verb.tag == "Hangup":
                self.stdout.write("(the call ends)")
        return root
