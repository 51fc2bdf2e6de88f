"""The matter clock. Matters that already exist are followed from their current stage: their
earlier visits are unknown, so they are never counted as answered or closed in time."""

import django.db.models.deletion
from django.db import migrations, models


def follow_existing_matters(apps, schema_editor):
    matter_model = apps.get_model("matters", "Matter")
    clock_model = apps.get_model("figures", "MatterClock")
    batch = []
    rows = matter_model.objects.order_by("pk").values_list(
        "pk", "stage", "stage_kind", "stage_entered_at", "stage_deadline")
    for pk, stage, kind, entered_at, deadline in rows.iterator(chunk_size=2000):
        batch.append(clock_model(matter_id=pk, stage=stage, kind=kind, entered_at=entered_at,
                                 deadline=deadline, in_first_visit=False,
                                 from_start=False))
        if len(batch) >= 2000:
            clock_model.objects.bulk_create(batch)
            batch = []
    clock_model.objects.bulk_create(batch)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('matters', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='MatterClock',
            fields=[
                ('matter', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='clock', serialize=False, to='matters.matter')),
                ('stage', models.CharField(max_length=40, verbose_name='环节')),
                ('kind', models.CharField(max_length=20, verbose_name='环节类型')),
                ('entered_at', models.DateTimeField(verbose_name='进入环节时间')),
                ('deadline', models.DateTimeField(blank=True, null=True, verbose_name='本环节时限')),
                ('late', models.BooleanField(default=False, help_text='时限已过后才被新的时限取代', verbose_name='本环节已超期')),
                ('in_first_visit', models.BooleanField(default=True, verbose_name='仍在首个环节')),
                ('from_start', models.BooleanField(default=True, help_text='否：事项在有此记录之前已流转，之前的环节是否超期不得而知', verbose_name='自登记起跟踪')),
                ('response_deadline', models.DateTimeField(blank=True, help_text='首个环节结束时有效的时限', null=True, verbose_name='受理时限')),
                ('response_late', models.BooleanField(blank=True, help_text='首个环节结束前为空', null=True, verbose_name='超时受理')),
                ('handling_visits', models.PositiveIntegerField(default=0, verbose_name='办理环节次数')),
                ('late_handling_visits', models.PositiveIntegerField(default=0, verbose_name='超期的办理环节次数')),
                ('late_visits', models.PositiveIntegerField(default=0, help_text='评价、公示、办结以外各类环节中超期的次数', verbose_name='超期的环节次数')),
            ],
            options={
                'verbose_name': '事项时限记录',
                'verbose_name_plural': '事项时限记录',
            },
        ),
        migrations.RunPython(follow_existing_matters, migrations.RunPython.noop),
    ]
