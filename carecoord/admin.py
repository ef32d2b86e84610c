"""The admin site is for configuration — people, roles, teams — not clinical content.
Records and audit events are read-only here; record content is reached through the pages
and the access policy like everyone else's."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from carecoord.audit.models import AccessEvent
from carecoord.records.models import Team, User, UserRole


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    inlines = [UserRoleInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("email", "full_name", "password1", "password2")}),
    )
    filter_horizontal = ()
    list_filter = ["is_active", "is_staff"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    filter_horizontal = ["managers", "coordinators"]
    search_fields = ["name"]


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    list_display = ["seq", "occurred_at", "actor", "action", "target", "basis", "ip_address"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
