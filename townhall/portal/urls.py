from django.urls import path

from townhall.portal import (
    accounts,
    apply_urls,
    appointment_urls,
    case_owner_views,
    case_views,
    knowledge_urls,
    ledger_views,
    map_urls,
    notices_urls,
    pages_urls,
    payment_urls,
    report_views,
    reports_urls,
    rules_urls,
    subscription_urls,
    survey_urls,
    views,
    waste_urls,
)

app_name = "portal"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("services/", views.services_view, name="services"),
    path("report/<slug:code>/", report_views.report_view, name="report"),
    path("report-photos/<str:token>/", report_views.staged_photo_view, name="staged-photo"),
    path("requests/<str:token>/", case_views.request_view, name="request"),
    path("requests/<str:token>/sent/", case_views.confirmation_view, name="confirmation"),
    path("requests/<str:token>/photos/<int:photo_id>/", case_views.photo_view, name="photo"),
    path("requests/<str:token>/follow/", case_views.follow_view, name="follow"),
    path("requests/<str:token>/new-link/", case_views.link_rotate_view, name="link-rotate"),
    path("track/<str:reference>/me-too/", case_views.me_too_view, name="me-too"),
    path("track/<str:reference>/follow/", case_views.follow_public_view, name="follow-public"),
    path("follow/confirm/<str:token>/", case_views.follow_confirm_view, name="follow-confirm"),
    path("requests/<str:token>/reopen/", case_views.reopen_view, name="reopen"),
    path("requests/<str:token>/update/", case_owner_views.case_update_view, name="case-update"),
    path(
        "requests/<str:token>/withdraw/", case_owner_views.case_withdraw_view, name="case-withdraw"
    ),
    path("track/", case_views.track_view, name="track"),
    path("ledger/", ledger_views.seals_view, name="ledger"),
    path("ledger/seals.json", ledger_views.seals_json_view, name="ledger-seals"),
    path("ledger/seals/<int:seal_id>.json", ledger_views.seal_json_view, name="ledger-seal"),
    path("ledger/proofs/<str:reference>.json", ledger_views.proof_json_view, name="ledger-proof"),
    path("account/", accounts.account_view, name="account"),
    path("account/profile/", accounts.profile_view, name="profile"),
    path("account/phone/", accounts.phone_view, name="phone"),
    path("account/phone/confirm/", accounts.phone_confirm_view, name="phone-confirm"),
    path("account/sign-in/", accounts.sign_in_view, name="sign-in"),
    path("account/sign-in/<str:token>/", accounts.sign_in_link_view, name="sign-in-link"),
    path("account/sign-out/", accounts.sign_out_view, name="sign-out"),
    path("account/my-data/", accounts.data_export_view, name="data-export"),
    path("account/close/", accounts.close_account_view, name="close-account"),
    path("healthz", views.health_view, name="health"),
    path("notifications/stop/<str:token>/", views.opt_out_view, name="opt-out"),
]
# Answers before a request: help articles (/help/), bin days (/bins/), eligibility and
# permits (/check/, /permits/). Each app's public pages live in their own module.
urlpatterns += [*knowledge_urls.urlpatterns, *waste_urls.urlpatterns, *rules_urls.urlpatterns]
# The pages a council must publish (privacy, accessibility, cookies, contact, security.txt).
urlpatterns += pages_urls.urlpatterns
# The maps' own layer of streets, for when no tile server is set or reachable.
urlpatterns += map_urls.urlpatterns
# Bin reminders and alerts near an address: sign up, confirm, stop (issue 16).
urlpatterns += subscription_urls.urlpatterns
# Satisfaction surveys (/survey/<token>/) and the public reports map and list (/reports/).
urlpatterns += [*survey_urls.urlpatterns, *reports_urls.urlpatterns]
# Appointments about a request: book, see, move, cancel (issue 21).
urlpatterns += appointment_urls.urlpatterns
# Paying a fee: the payment page, its return page and the sandbox checkout (payments app).
urlpatterns += payment_urls.urlpatterns
# Public notices and product recalls, with the batch-code check (issue 21).
urlpatterns += notices_urls.urlpatterns
# "Apply" after an eligibility check or a permit finder, with the answers given (issue 21).
urlpatterns += apply_urls.urlpatterns
