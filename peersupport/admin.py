"""The directory can also be kept from the admin site (it is configuration, not clinical
content). Signposting and stories are people's own words: they are reached only through
the pages and the access policy."""

from django.contrib import admin

from peersupport.models import Offer


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "audience", "place", "online", "active"]
    list_filter = ["kind", "audience", "online", "active"]
    search_fields = ["name", "description", "place"]
    readonly_fields = ["created_at", "updated_at", "updated_by"]
