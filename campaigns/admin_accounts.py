"""Admin of who may do what in an account: the accounts themselves, their API keys and their
staff members. Every change goes through campaigns.services, which audits it."""

from django.contrib import admin, messages

from campaigns import services
from campaigns.admin_forms import AccountForm
from campaigns.admin_scoping import AccountScopedAdmin, adopt, count_of
from campaigns.models import Account, ApiKey, Campaign, Membership, Role


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]  # a select would list every user of the installation
    readonly_fields = ["created_at"]


@admin.register(Account)
class AccountAdmin(AccountScopedAdmin):
    form = AccountForm
    list_display = ["name", "currency", "time_zone", "region", "public_key", "campaign_count"]
    search_fields = ["name", "=public_key"]
    ordering = ["name"]
    list_filter = ["is_demo"]
    # loaddemo replaces demo accounts on every run: ticking the box on a real one would doom it.
    readonly_fields = ["public_key", "is_demo", "created_at"]
    inlines = [MembershipInline]
    actions = ["create_admin_key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(campaign_count=count_of(Campaign, "account"))

    @admin.display(description="Campaigns", ordering="campaign_count")
    def campaign_count(self, account):
        return account.campaign_count

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # Members through their services: who may see an account (and how masked) is audited.
        account = form.instance
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.remove_member(account=account, membership=membership)
        for membership in formset.new_objects:
            services.add_member(account=account, user=membership.user, role=membership.role)
        for membership, changed in formset.changed_objects:
            stored = Membership.objects.get(pk=membership.pk)
            fields = {name: getattr(membership, name) for name in changed}
            services.update_member(account=account, membership=stored, **fields)

    def has_add_permission(self, request):
        # A staff user would not be a member of the account they add, and would lose it.
        return request.user.is_superuser

    def has_issue_key_permission(self, request):
        return request.user.has_perm("campaigns.add_apikey")

    def save_model(self, request, obj, form, change):
        fields = self.service_fields(form, change)
        if change:
            original = Account.objects.get(pk=obj.pk)
            adopt(obj, services.update_account(account=original, **fields))
        else:
            adopt(obj, services.create_account(**fields))

    @admin.action(description="Create an admin API key", permissions=["issue_key"])
    def create_admin_key(self, request, queryset):
        name = f"Created in the admin by {request.user.get_username()}"[:100]
        for account in queryset:
            key, raw_key = services.issue_api_key(account=account, role=Role.ADMIN, name=name)
            self.log_addition(request, key, "Issued from the account list.")
            self.message_user(
                request,
                f"New admin key for {account}: {raw_key} — copy it now, it is not shown again.",
                messages.WARNING,
            )


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return [("yes", "Revoked"), ("no", "Active")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(revoked_at__isnull=self.value() == "no")
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(AccountScopedAdmin):
    list_display = ["prefix", "name", "account", "role", "created_at", "last_used_at", "revoked"]
    list_filter = ["role", RevokedFilter, "account"]
    list_select_related = ["account"]
    search_fields = ["=prefix", "name"]
    ordering = ["-created_at"]
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        # hashed_key is never shown; a new key is issued by the service from these three.
        if obj is None:
            return ["account", "role", "name"]
        return ["account", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["account", "role", "prefix", "created_at", "last_used_at", "revoked_at"]

    @admin.display(description="Revoked", boolean=True, ordering="revoked_at")
    def revoked(self, key):
        return key.revoked_at is not None

    def save_model(self, request, obj, form, change):
        self.check_owner(request, obj)
        if change:
            original = ApiKey.objects.get(pk=obj.pk)
            adopt(
                obj,
                services.rename_api_key(account=original.account, api_key=original, name=obj.name),
            )
            return
        key, raw_key = services.issue_api_key(account=obj.account, role=obj.role, name=obj.name)
        adopt(obj, key)
        self.message_user(
            request,
            f"The new key is {raw_key} — copy it now, it is not shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        count = services.revoke_api_keys(keys=keys)
        for key in keys:  # who revoked a key is worth a line in its history
            self.log_change(request, key, "Revoked.")
        self.message_user(request, f"Revoked {count} key(s).")


@admin.register(Membership)
class MembershipAdmin(AccountScopedAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account"]
    list_select_related = ["user", "account"]
    search_fields = ["user__username", "user__email", "account__name"]
    raw_id_fields = ["user"]
    create_service = services.add_member
    update_service = services.update_member
    instance_arg = "membership"

    def delete_model(self, request, obj):
        services.remove_member(account=obj.account, membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("account"):
            services.remove_member(account=membership.account, membership=membership)
