"""Townhall settings: one module, driven by environment variables (12-factor).

Defaults serve the embedded demo (SQLite, no other server). Production values come from the
environment; with ``TOWNHALL_ENV=production`` a missing secret fails at start-up.
Every variable is listed in ``.env.example`` and ``docs/operations.md``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ

from townhall.conf.appointments import appointments_settings
from townhall.conf.assistant import assistant_settings
from townhall.conf.experience import experience_settings
from townhall.conf.intake import intake_settings
from townhall.conf.log import logging_config
from townhall.conf.media import (
    media_accel_redirect,
    media_client_loggers,
    media_image_urls,
    media_storage,
)
from townhall.conf.notify import notify_settings
from townhall.conf.observability import observability_settings, sentry_setup
from townhall.conf.payments import payments_settings
from townhall.conf.periodic import periodic_tasks
from townhall.conf.portal import portal_settings
from townhall.conf.ratelimits import rate_limit_settings
from townhall.conf.retention import retention_defaults
from townhall.conf.security import csp_directives
from townhall.conf.staff import staff_sign_in_settings
from townhall.conf.storage import (
    cache_settings,
    database_settings,
    redis_url_for_test_worker,
    sqlite_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
ENV_FILE = BASE_DIR / ".env"
if ENV_FILE.exists():
    env.read_env(str(ENV_FILE))

TOWNHALL_ENV = env.str("TOWNHALL_ENV", default="development")
PRODUCTION = TOWNHALL_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # no default: production must set it
else:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-demo-key-do-not-use-in-production")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
VAR_DIR = Path(env.str("TOWNHALL_VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "townhall.console.apps.StaffAdminConfig",  # django.contrib.admin, second step aware
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "townhall.core",
    "townhall.catalog",
    "townhall.people",
    "townhall.places",
    "townhall.knowledge",
    "townhall.rules",
    "townhall.waste",
    "townhall.cases",
    "townhall.notify",
    "townhall.vision",
    "townhall.appointments",
    "townhall.payments",
    "townhall.forwarding",
    "townhall.notices",
    "townhall.intake",
    "townhall.experience",
    "townhall.assistant",
    "townhall.insights",
    "townhall.portal",
    "townhall.console",
    "townhall.hooks",
    "townhall.open311",
    "townhall.demo",
    "townhall.ops",
]

MIDDLEWARE = [
    "townhall.ops.middleware.RequestIdMiddleware",  # request_id on every log record
    "townhall.ops.metrics.MetricsMiddleware",  # /metrics: requests by URL name and status
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "townhall.console.signin.StaffSessionLifetimeMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "townhall.urls"
WSGI_APPLICATION = "townhall.wsgi.application"

# A folder of templates that replace Townhall's own (e.g. portal/pages/privacy.html for the
# council's privacy notice); empty: Townhall's templates only.
TOWNHALL_TEMPLATES_DIR = env.str("TOWNHALL_TEMPLATES_DIR", default="")
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [TOWNHALL_TEMPLATES_DIR] if TOWNHALL_TEMPLATES_DIR else [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "townhall.portal.context.brand",
                "townhall.core.web.csp_nonce",  # csp_nonce for inline <script>/<style>
            ],
        },
    },
]

# --- database: SQLite (WAL) by default, anything dj-database-url understands via DATABASE_URL ---
DATABASE_URL = env.str("DATABASE_URL", default="") or sqlite_url(VAR_DIR)
DATABASES = {"default": database_settings(env, database_url=DATABASE_URL)}  # conf/storage.py
# A read replica for the dashboards and Open311 reads (core/routers.py); tests mirror default.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_settings(env, database_url=DATABASE_REPLICA_URL)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["townhall.core.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache: Redis when REDIS_URL is set, process memory otherwise ---
REDIS_URL = redis_url_for_test_worker(
    env.str("REDIS_URL", default=""), env.str("PYTEST_XDIST_WORKER", default="")
)
CACHES = cache_settings(env, redis_url=REDIS_URL, production=PRODUCTION)

# --- background work: Django's tasks API on the database-backed worker ---
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("es", "Español")]  # a language is offered once translated
# One spelling per council: LANGUAGE_CODE en-gb or en-us offers English as that variant.
# The portal's strings are in US spelling ("en", "en-us"); portal/locale/en_GB has the UK one.
if LANGUAGE_CODE.lower().startswith("en-"):
    LANGUAGES[0] = (LANGUAGE_CODE.lower(), "English")
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["townhall.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": media_storage(env),  # conf/media.py: TOWNHALL_MEDIA_STORAGE file | s3 | azure
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# nginx's internal location for MEDIA_ROOT: files checked here, sent by nginx (file backend).
TOWNHALL_MEDIA_ACCEL_REDIRECT = media_accel_redirect(env)

LOGIN_URL = "admin:login"

# --- Townhall policy defaults (a council's own policy lives in the database) ---
# Region used to read phone numbers written without a country code (ISO 3166 alpha-2).
TOWNHALL_PHONE_REGION = env.str("TOWNHALL_PHONE_REGION", default="US")
# Prefix of public case references, e.g. TH-26-004211.
TOWNHALL_REFERENCE_PREFIX = env.str("TOWNHALL_REFERENCE_PREFIX", default="TH")

# --- the caseworker console ---
# Staff who set up an authenticator app give its code at sign-in; who must set one up is
# TOWNHALL_STAFF_REQUIRE_2FA, in the staff sign-in block below.
OTP_TOTP_ISSUER = env.str("TOWNHALL_BRAND_NAME", default="Townhall")
# Single sign-on for staff (OpenID Connect, mozilla-django-oidc): off unless configured.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
TOWNHALL_OIDC = bool(OIDC_RP_CLIENT_ID)
if TOWNHALL_OIDC:
    INSTALLED_APPS.append("mozilla_django_oidc")  # its backend: see "staff sign-in" below
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_CREATE_USER = False
    LOGIN_REDIRECT_URL = "/console/"
# "Breaching soon" lists running cases due within this many hours.
TOWNHALL_BREACHING_SOON_HOURS = env.int("TOWNHALL_BREACHING_SOON_HOURS", default=4)

# --- the citizen portal ---
# Residents' photos: at most this many per report, each at most this many bytes and pixels.
TOWNHALL_PHOTOS_PER_REPORT = env.int("TOWNHALL_PHOTOS_PER_REPORT", default=5)
TOWNHALL_PHOTO_MAX_BYTES = env.int("TOWNHALL_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
TOWNHALL_PHOTO_MAX_PIXELS = env.int("TOWNHALL_PHOTO_MAX_PIXELS", default=50_000_000)
# Checked photos of a report form sent back with mistakes are kept this long for the retry.
TOWNHALL_STAGED_PHOTO_HOURS = env.int("TOWNHALL_STAGED_PHOTO_HOURS", default=24)
# Open cases of the same service within this distance are offered before a new report.
TOWNHALL_DUPLICATE_RADIUS_M = env.int("TOWNHALL_DUPLICATE_RADIUS_M", default=250)
# --- intake: every channel into one pipeline (conf/intake.py; docs/operations.md, "Intake") ---
(
    TOWNHALL_TRIAGE_THRESHOLD,
    TOWNHALL_INTAKE_FALLBACK_SERVICE,
    TOWNHALL_INTAKE_RATE_LIMIT_PER_HOUR,
    TOWNHALL_SMS_THREAD_MINUTES,
    TOWNHALL_DUPLICATE_AUTO_SCORE,
    TOWNHALL_DUPLICATE_SUGGEST_SCORE,
    TOWNHALL_INBOUND_EMAIL_SECRET,
    TOWNHALL_INBOUND_EMAIL_DOMAIN,
    TOWNHALL_REPLY_ADDRESS_SECRET,
    TOWNHALL_INBOUND_EMAIL_MAX_BYTES,
    TOWNHALL_IMAP,
) = intake_settings(env, secret_key=SECRET_KEY)
# --- what residents see: help, maps, the council's look (conf/portal.py) ---
(
    TOWNHALL_KNOWLEDGE_EMBEDDINGS,
    TOWNHALL_KNOWLEDGE_THREADS,
    TOWNHALL_KNOWLEDGE_GAP_THRESHOLD,
    TOWNHALL_SIGN_IN_LINK_MINUTES,
    TOWNHALL_REOPEN_DAYS,
    TOWNHALL_MAP_TILE_URL,
    TOWNHALL_MAP_ATTRIBUTION,
    TOWNHALL_BRAND,
) = portal_settings(env)
# Missed-bin services and the waste stream each is about: such a report is accepted only
# after the crews are done on a day that bin was collected at the address (waste app).
TOWNHALL_MISSED_COLLECTION_SERVICES = {"missed_trash": "garbage", "missed_recycling": "recycling"}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)

LOGGING = logging_config(
    level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="plain")
)
# --- health, metrics, errors (issue 19): conf/observability.py, docs/operations.md ---
TOWNHALL_METRICS_TOKEN, TOWNHALL_READY_MAX_TASK_AGE = observability_settings(env)
TOWNHALL_SENTRY = sentry_setup(env, environment=TOWNHALL_ENV)

# --- staff sign-in (issue 15) ---
(
    TOWNHALL_STAFF_REQUIRE_2FA,
    TOWNHALL_SSO_SKIPS_SECOND_STEP,
    TOWNHALL_STAFF_SIGN_IN_ATTEMPTS,
    TOWNHALL_STAFF_LOCKOUT_MINUTES,
    TOWNHALL_STAFF_SESSION_IDLE_MINUTES,
    TOWNHALL_STAFF_SESSION_MAX_HOURS,
) = staff_sign_in_settings(env, production=PRODUCTION)  # conf/staff.py
# django-axes: lockout by the username *and* address together; a success clears the count.
AXES_FAILURE_LIMIT = TOWNHALL_STAFF_SIGN_IN_ATTEMPTS
AXES_COOLOFF_TIME = timedelta(minutes=TOWNHALL_STAFF_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "townhall.console.signin.locked_out_response"
AXES_VERBOSE = False
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
LOGGING["loggers"].update(media_client_loggers())  # storage clients log keys at DEBUG
AUTHENTICATION_BACKENDS = [
    "townhall.console.signin.StaffAxesBackend",  # refuses while locked out
    *(["townhall.console.sso.StaffOIDCBackend"] if TOWNHALL_OIDC else []),
    "django.contrib.auth.backends.ModelBackend",
]

# --- periodic jobs, all in conf/periodic.py; `townhall scheduler` enqueues them ---
TOWNHALL_PERIODIC_TASKS = periodic_tasks(env)

# --- who hears about case events, inside the event's transaction (cases/dispatch.py) ---
TOWNHALL_CASE_EVENT_SUBSCRIBERS = {
    "townhall.notify.services.notification_for_case_event": [
        "acknowledged",
        "status_changed",
        "public_update",
        "reopened",
        "resumed",
        "priority_changed",
    ],
    # The satisfaction survey owed when a case is resolved (experience/services.py).
    "townhall.experience.services.survey_for_case_event": ["status_changed"],
    # A fee owed when a case opens, and the hold until it is paid (payments/holds.py).
    "townhall.payments.holds.payment_on_case_opened": ["opened"],
    "townhall.payments.holds.hold_on_status_changed": ["status_changed"],
    # A case a routing rule gives to another body is forwarded to it (forwarding/sending.py).
    "townhall.forwarding.sending.forward_on_case_opened": ["opened"],
}

# --- forwarding to other bodies: attempts and backoff (docs/forwarding.md) ---
TOWNHALL_FORWARDING = {
    "MAX_ATTEMPTS": env.int("FORWARD_MAX_ATTEMPTS", default=8),
    "BACKOFF_BASE_SECONDS": env.int("FORWARD_BACKOFF_BASE_SECONDS", default=60),
    "BACKOFF_MAX_SECONDS": env.int("FORWARD_BACKOFF_MAX_SECONDS", default=6 * 3600),
}

# --- payments: provider, currency, secrets (conf/payments.py, docs/payments.md) ---
TOWNHALL_PAYMENTS = payments_settings(env, production=PRODUCTION)

# --- experience: surveys and the frustration index (conf/experience.py) ---
TOWNHALL_EXPERIENCE = experience_settings(env)

# --- notifications: channels, the outbox's retries and pace (conf/notify.py) ---
(
    TOWNHALL_PUBLIC_URL,
    DEFAULT_FROM_EMAIL,
    EMAIL_BACKEND,
    EMAIL_FILE_PATH,
    EMAIL_HOST,
    EMAIL_PORT,
    EMAIL_HOST_USER,
    EMAIL_HOST_PASSWORD,
    EMAIL_USE_TLS,
    TOWNHALL_CHANNELS,
    ANYMAIL,
    TOWNHALL_SMS_QUIET_HOURS,
    TOWNHALL_NOTIFY_MAX_ATTEMPTS,
    TOWNHALL_NOTIFY_RETRY_BASE_SECONDS,
    TOWNHALL_NOTIFY_RETRY_CAP_SECONDS,
    TOWNHALL_NOTIFY_LEASE_SECONDS,
    TOWNHALL_CHANNEL_RATE_LIMITS,
) = notify_settings(env, production=PRODUCTION, var_dir=VAR_DIR)

# --- identity and accounts (issue 15) ---
# A one-time code texted to prove a phone number: how long it works, and how many wrong
# tries end it.
TOWNHALL_PHONE_CODE_MINUTES = env.int("TOWNHALL_PHONE_CODE_MINUTES", default=10)
TOWNHALL_PHONE_CODE_ATTEMPTS = env.int("TOWNHALL_PHONE_CODE_ATTEMPTS", default=5)
# --- private links and public data (issue 15) ---
# Hours a link that confirms an e-mail address (before it follows a request) stays valid.
TOWNHALL_FOLLOW_CONFIRM_HOURS = env.int("TOWNHALL_FOLLOW_CONFIRM_HOURS", default=72)
# --- input that must never break anything (issue 15; docs/security/input.md) ---
# Signed SMS callbacks carry no time: each signature is remembered this long (replays refused).
TOWNHALL_SMS_REPLAY_SECONDS = env.int("TOWNHALL_SMS_REPLAY_SECONDS", default=7 * 86400)
# Inbound e-mail from providers (/hooks/anymail/<provider>/inbound/): each delivery's id is
# remembered this long; the same delivery again is refused (409).
TOWNHALL_INBOUND_EMAIL_REPLAY_SECONDS = env.int(
    "TOWNHALL_INBOUND_EMAIL_REPLAY_SECONDS", default=7 * 86400
)
# django-anymail accepts unauthenticated tracking webhooks (with a warning) when no secret
# is set: in production an anymail e-mail backend needs ANYMAIL_WEBHOOK_SECRET, and without
# it the tracking URLs are not served at all (townhall/urls.py).
if PRODUCTION and EMAIL_BACKEND.startswith("anymail.") and not ANYMAIL["WEBHOOK_SECRET"]:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET is required in production with an anymail EMAIL_BACKEND: "
        "its tracking webhooks would otherwise accept anyone's delivery reports."
    )
# Outgoing webhooks reach public addresses only; CIDRs listed here are allowed as well
# (e.g. "127.0.0.1/32" for a local receiver in the demo, "10.20.0.0/16" for the council's own).
TOWNHALL_WEBHOOK_ALLOWED_NETWORKS = env.list("TOWNHALL_WEBHOOK_ALLOWED_NETWORKS", default=[])
# Photo decoding: at most this many at once per process; others wait this long, then are
# refused politely (memory stays bounded under a burst of uploads).
TOWNHALL_PHOTO_DECODES = env.int("TOWNHALL_PHOTO_DECODES", default=2)
TOWNHALL_PHOTO_DECODE_WAIT_SECONDS = env.float("TOWNHALL_PHOTO_DECODE_WAIT_SECONDS", default=20)
# Photos kept for report forms sent back with mistakes: per visitor's session (the oldest
# make room) and in all (expired ones are purged first, then new ones are not kept).
TOWNHALL_STAGED_PHOTOS_PER_SESSION = env.int("TOWNHALL_STAGED_PHOTOS_PER_SESSION", default=10)
TOWNHALL_STAGED_PHOTOS_MAX = env.int("TOWNHALL_STAGED_PHOTOS_MAX", default=2000)
# --- privacy: erasure and retention (issue 15) ---
# An erased case keeps its location rounded to this many decimals (2: about a kilometre).
TOWNHALL_ERASURE_COORD_DECIMALS = env.int("ERASURE_COORD_DECIMALS", default=2)
# How long each kind of data is kept by default (conf/retention.py; admins change it).
TOWNHALL_RETENTION = retention_defaults(env, staged_file_hours=TOWNHALL_STAGED_PHOTO_HOURS)
# --- ledger seals (issue 15) ---
# The Ed25519 key that signs the daily seal of every case chain (PKCS#8 PEM), kept outside
# the database. In development a key is generated there (mode 0600) on the first seal;
# production never generates one and refuses to seal until TOWNHALL_LEDGER_KEY_FILE is set.
TOWNHALL_LEDGER_KEY_FILE: str | None = env.str(
    "TOWNHALL_LEDGER_KEY_FILE",
    default=None if PRODUCTION else str(VAR_DIR / "ledger-seal.key"),
)
# --- rate limits (issue 15): townhall/conf/ratelimits.py, docs/security/ratelimit.md ---
(
    TOWNHALL_RATE_LIMITS_ENABLED,
    TOWNHALL_RATE_LIMITS,
    TOWNHALL_RATE_LIMIT_STORAGE,
    TOWNHALL_RATE_LIMIT_PREFIX,
    TOWNHALL_RATE_LIMIT_TIMEOUT,
    TOWNHALL_TRUSTED_PROXIES,
) = rate_limit_settings(env, production=PRODUCTION, redis_url=REDIS_URL)
# --- platform (issue 15): CSP, HTTPS, key rotation, public pages (docs/security/platform.md) ---
INSTALLED_APPS.append("csp")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "townhall.core.web.NonceCSPMiddleware",
)
# The database unavailable: 503 with Retry-After, not 500 (core/resilience.py).
MIDDLEWARE.insert(
    MIDDLEWARE.index("townhall.core.web.NonceCSPMiddleware") + 1,
    "townhall.core.resilience.DatabaseUnavailableMiddleware",
)
# Content-Security-Policy (townhall/conf/security.py): images also from the map's tile server
# and the logo's host (and CSP_EXTRA_IMG_SRC); CSP_REPORT_ONLY sends it as report-only.
CSP_DIRECTIVES = csp_directives(
    env,
    image_urls=[
        TOWNHALL_MAP_TILE_URL,
        TOWNHALL_BRAND["logo"],
        *media_image_urls(STORAGES["default"]),
    ],
    form_urls=[OIDC_OP_AUTHORIZATION_ENDPOINT] if TOWNHALL_OIDC else [],
)
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_DIRECTIVES}
# HTTPS: production redirects plain HTTP to HTTPS (off when a proxy already does) and sends
# HSTS; includeSubDomains and preload only when every subdomain of the site serves HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# The load balancer's probes and a local scraper speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Where staff land after signing in when the `next` they came with is not one of our pages.
LOGIN_REDIRECT_URL = "/console/"
# Key rotation: the new key in SECRET_KEY, the old ones here (comma-separated) until links
# signed with them (sign-in links, unsubscribe links, sessions) have run out.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Reply addresses already sent keep threading after a rotation: the old reply-address
# secrets, or, while that secret is the secret key, the old secret keys.
TOWNHALL_REPLY_ADDRESS_SECRET_FALLBACKS = env.list(
    "TOWNHALL_REPLY_ADDRESS_SECRET_FALLBACKS",
    default=[] if env.str("TOWNHALL_REPLY_ADDRESS_SECRET", default="") else SECRET_KEY_FALLBACKS,
)
# Answers to eligibility and permit questions are kept server-side (the cache), never in a
# URL, for this many minutes after the last answer; "Change your answers" works meanwhile.
TOWNHALL_ANSWERS_KEEP_MINUTES = env.int("TOWNHALL_ANSWERS_KEEP_MINUTES", default=30)
# /.well-known/security.txt (RFC 9116): where to report a flaw, and the policy page.
TOWNHALL_SECURITY_CONTACT = env.str(
    "TOWNHALL_SECURITY_CONTACT", default="mailto:security@townhall.invalid"
)
# The policy page: empty for this site's own /security/ page.
TOWNHALL_SECURITY_POLICY_URL = env.str("TOWNHALL_SECURITY_POLICY_URL", default="")
# The security.txt's Expires field: this many days after the page is served.
TOWNHALL_SECURITY_TXT_DAYS = env.int("TOWNHALL_SECURITY_TXT_DAYS", default=180)
# --- every message through the outbox (issue 16) ---
# Who queues the SLA scan's escalation digests (cases cannot import notify).
TOWNHALL_SLA_ESCALATION_HANDLER = "townhall.notify.staff_mail.sla_escalation_queue"
# --- the assistant: dialogue, live chat, its transport, the phone (conf/assistant.py) ---
# Apps above intake that hold a share of a resident's data (export and erasure):
# intake/privacy_parts.py.
TOWNHALL_PRIVACY_PARTS = ["townhall.assistant.privacy"]
_assistant = assistant_settings(env, redis_url=REDIS_URL, production=PRODUCTION)
TOWNHALL_LIVE_CHAT_HOURS = _assistant["TOWNHALL_LIVE_CHAT_HOURS"]
TOWNHALL_LIVE_CHAT_GROUP = _assistant["TOWNHALL_LIVE_CHAT_GROUP"]
TOWNHALL_LIVE_CHAT_SERVICE = _assistant["TOWNHALL_LIVE_CHAT_SERVICE"]
TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD = _assistant["TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD"]
TOWNHALL_ASSISTANT_SMS = _assistant["TOWNHALL_ASSISTANT_SMS"]
TOWNHALL_ASSISTANT_SMS_IDLE_HOURS = _assistant["TOWNHALL_ASSISTANT_SMS_IDLE_HOURS"]
TOWNHALL_ASSISTANT_IDLE_MINUTES = _assistant["TOWNHALL_ASSISTANT_IDLE_MINUTES"]
ASGI_APPLICATION = _assistant["ASGI_APPLICATION"]
CHANNEL_LAYERS = _assistant["CHANNEL_LAYERS"]
TOWNHALL_ASSISTANT_TRANSPORT = _assistant["TOWNHALL_ASSISTANT_TRANSPORT"]
TOWNHALL_ASSISTANT_ORIGINS = _assistant["TOWNHALL_ASSISTANT_ORIGINS"]
TOWNHALL_VOICE = _assistant["TOWNHALL_VOICE"]
# --- appointments (issue 21): conf/appointments.py, docs/appointments.md ---
_appointments = appointments_settings()
TOWNHALL_PRIVACY_PARTS += _appointments["TOWNHALL_PRIVACY_PARTS"]
TOWNHALL_NOTIFY_ATTACHMENTS = _appointments["TOWNHALL_NOTIFY_ATTACHMENTS"]
