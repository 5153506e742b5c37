"""What every writing service of the campaigns app shares."""

from django.db import IntegrityError, models, transaction

from campaigns.errors import Invalid

# A unique constraint broken by a write becomes a message on the field a person would fix.
CONSTRAINT_MESSAGES = {
    "campaign_name_unique": ("name", "A campaign with this name already exists."),
    "campaign_utm_unique": ("utm_campaign", "Another campaign already uses this utm_campaign."),
    "keyword_text_unique": ("text", "This campaign already has this keyword."),
    "pool_target_unique": ("keyword", "This campaign (and keyword) already has a pool."),
    "pool_one_default": ("is_default", "The account already has a default pool."),
    "campaigns_trackingnumber_e164_key": ("e164", "This number is already in use."),
    "membership_unique": ("user", "This user is already a member of the account."),
}


def save(instance: models.Model) -> models.Model:
    """Save, turning a broken unique constraint into a field error instead of a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint not in CONSTRAINT_MESSAGES:
            raise
        field, message = CONSTRAINT_MESSAGES[constraint]
        raise Invalid(message, fields={field: [message]}) from exc
    return instance


def assign(instance: models.Model, fields: dict) -> models.Model:
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance
