from django.apps import AppConfig


class PeersupportConfig(AppConfig):
    name = "peersupport"
    verbose_name = "Peer support"
