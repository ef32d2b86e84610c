"""The admin site is for configuration — people, roles, teams — not clinical content.
Records and audit events are read-only here; record content is reached through the pages
and the access policy like everyone else's.

An administrator never sets anyone's password or email address (they could then sign in
as that person): they send a password reset link to the person's own address. Nobody
gives themselves a role or a place in a team; every such change goes through the records
services, which audit it (security issue 13, point 3).

This site is for emergencies only: the administration area (/administration/,
carecoord/administration, ADR 0022) is where teams and staff accounts are run. Here too,
the last administrator is neither disabled nor loses the role."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404

from carecoord.audit.models import AccessEvent
from carecoord.records import services
from carecoord.records.models import Role, Team, User, UserRole
from consent import policy


class UserAddForm(forms.ModelForm):
    """A new account has no password: the person sets one from a reset link."""

    class Meta:
        model = User
        fields = ["email", "full_name", "preferred_name"]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


LAST_ADMINISTRATOR = ("This is the only administrator: they keep the role and stay "
                      "active. Make someone else an administrator first.")


def _is_last_administrator(user: User) -> bool:
    admins = policy.administrators()
    return admins.filter(pk=user.pk).exists() and not admins.exclude(pk=user.pk).exists()


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1
    fields = ["role", "granted_at"]
    readonly_fields = ["granted_at"]

    def _is_self(self, request, obj) -> bool:
        return obj is not None and obj.pk == request.user.pk

    # A role is given or taken away, never edited; and never on one's own account.
    def has_add_permission(self, request, obj=None) -> bool:
        return not self._is_self(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self._is_self(request, obj) and super().has_delete_permission(request, obj)

    def has_view_permission(self, request, obj=None) -> bool:
        return True


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    inlines = [UserRoleInline]
    # No password field (and so no link to a password form) and a read-only email address.
    fieldsets = (
        (None, {"fields": ("email",)}),
        ("Personal details", {"fields": ("full_name", "preferred_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_form = UserAddForm
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "full_name", "preferred_name")}),)
    filter_horizontal = ()
    list_filter = ["is_active", "is_staff"]
    actions = ["send_password_reset_link"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if obj is not None:
            readonly.append("email")
            if obj.pk == request.user.pk:
                readonly += ["is_active", "is_staff", "is_superuser"]
        return readonly

    def get_urls(self):
        # Drop Django's "set this user's password" page.
        return [url for url in super().get_urls() if not str(url.pattern).endswith("password/")]

    def user_change_password(self, request, id, form_url=""):
        raise Http404

    @admin.action(description="Send a password reset link")
    def send_password_reset_link(self, request, queryset):
        sent = 0
        for user in queryset:
            try:
                services.password_reset_link_send(user=user, sent_by=request.user)
            except ValueError:
                self.message_user(request, f"No link sent to {user.display_name}: no usable "
                                           "email address.", messages.WARNING)
            else:
                sent += 1
        if sent:
            self.message_user(request, f"A password reset link has been emailed to {sent} "
                                       f"{'person' if sent == 1 else 'people'}.")

    def save_model(self, request, obj, form, change):
        if (change and "is_active" in form.changed_data and not obj.is_active
                and _is_last_administrator(obj)):
            # The administration area keeps an administrator; so does this emergency door.
            obj.is_active = True
            form.changed_data.remove("is_active")
            self.message_user(request, LAST_ADMINISTRATOR, messages.ERROR)
        super().save_model(request, obj, form, change)
        flags = [f for f in ("is_active", "is_staff", "is_superuser") if f in form.changed_data]
        if not change or flags:
            services.user_account_change_record(
                user=obj, changed_by=request.user,
                change="created" if not change else ", ".join(
                    f"{flag}={getattr(obj, flag)}" for flag in flags),
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not UserRole:
            return super().save_formset(request, form, formset, change)
        user = form.instance
        try:
            for role_form in formset.deleted_forms:
                if (role_form.instance.pk and role_form.instance.role == Role.ADMIN
                        and _is_last_administrator(user)):
                    self.message_user(request, LAST_ADMINISTRATOR, messages.ERROR)
                    continue
                if role_form.instance.pk:
                    services.user_role_revoke(user=user, role=role_form.instance.role,
                                              revoked_by=request.user)
            for role_form in formset.forms:
                if (role_form in formset.deleted_forms or role_form.instance.pk
                        or not role_form.has_changed()):
                    continue
                services.user_role_grant(user=user, role=role_form.cleaned_data["role"],
                                         granted_by=request.user)
        except services.SelfAccessError as error:
            self.message_user(request, str(error), messages.ERROR)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        return None


class TeamAdminForm(forms.ModelForm):
    """Managers and coordinators are chosen among people who hold that role (never a
    service user or a carer), and nobody adds themselves."""

    class Meta:
        model = Team
        fields = [
            "name", "managers", "coordinators", "stuck_no_progress_days",
            "stuck_awaiting_signature_days", "stuck_assessment_days", "stuck_falling_check_ins",
            "stuck_caseload_prompts", "reminder_due_soon_days", "reminder_overdue_days",
        ]

    requested_by: User | None = None

    def clean(self):
        data = super().clean()
        me = self.requested_by
        if me is None:
            return data
        for field in ("managers", "coordinators"):
            chosen = data.get(field)
            already = (self.instance.pk is not None
                       and getattr(self.instance, field).filter(pk=me.pk).exists())
            if chosen is not None and me in chosen and not already:
                self.add_error(field, "You cannot add yourself to a team. Ask another "
                                      "administrator.")
        return data


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    filter_horizontal = ["managers", "coordinators"]
    search_fields = ["name"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"requested_by": request.user})

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        role = {"managers": Role.MANAGER, "coordinators": Role.COORDINATOR}.get(db_field.name)
        if role is not None:
            kwargs["queryset"] = User.objects.filter(role_grants__role=role).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        team = form.instance
        for place, (field, _) in services.TEAM_PLACES.items():
            wanted = set(form.cleaned_data[field])
            current = set(getattr(team, field).all())
            for user in wanted - current:
                services.team_member_add(team=team, user=user, place=place,
                                         added_by=request.user)
            for user in current - wanted:
                services.team_member_remove(team=team, user=user, place=place,
                                            removed_by=request.user)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


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
