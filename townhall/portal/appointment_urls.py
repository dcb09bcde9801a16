"""Residents' appointments (issue 21): /appointments/..."""

from django.urls import path

from townhall.portal import appointment_views as views

urlpatterns = [
    path("appointments/", views.mine_view, name="appointments"),
    path("appointments/book/<str:token>/", views.book_view, name="appointment-book"),
    path("appointments/link/<str:token>/", views.link_view, name="appointment-link"),
    path("appointments/<uuid:public_id>/", views.detail_view, name="appointment"),
    path("appointments/<uuid:public_id>/move/", views.move_view, name="appointment-move"),
    path("appointments/<uuid:public_id>/cancel/", views.cancel_view, name="appointment-cancel"),
]
