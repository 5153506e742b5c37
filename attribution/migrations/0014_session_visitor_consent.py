# A session started without the visitor's consent stores no visitor id (docs/dni.md, "Consent").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("attribution", "0013_encrypted_credentials"),
    ]

    operations = [
        migrations.AlterField(
            model_name="visitorsession",
            name="visitor_id",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
    ]
