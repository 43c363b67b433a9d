import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='invitee',
            name='source',
            field=models.CharField(choices=[('invited', '邀请名单'), ('walk_in', '现场登记')], default='invited', max_length=8, verbose_name='来源'),
        ),
        migrations.AddField(
            model_name='invitee',
            name='over_capacity_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='超出名额登记人'),
        ),
        migrations.AddField(
            model_name='invitee',
            name='over_capacity_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='超出名额登记时间'),
        ),
    ]
