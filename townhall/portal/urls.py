from django.urls import path

from townhall.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("track/", views.track_view, name="track"),
    path("healthz", views.health_view, name="health"),
    path("notifications/stop/<str:token>/", views.opt_out_view, name="opt-out"),
]
