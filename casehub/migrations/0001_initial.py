# The outbox and signal receipts moved here from the reports app: the models
# join this app's state over the tables they had (renamed in 0002); nothing is
# created in the database.

import django.db.models.deletion
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('municipalities', '0007_secret_env_message'),
        ('reports', '0004_case_hub'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('state', models.CharField(choices=[('pending', 'Waiting'), ('sending', 'Sending'), ('failed', 'Failed, will retry'), ('delivered', 'Delivered'), ('dead', 'Given up')], default='pending', max_length=20)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField()),
                        ('queued_at', models.DateTimeField(help_text='Start of the window after which the outbox gives up.')),
                        ('lease_token', models.UUIDField(blank=True, null=True)),
                        ('lease_until', models.DateTimeField(blank=True, null=True)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('external_id', models.CharField(blank=True, max_length=200)),
                        ('external_token', models.CharField(blank=True, max_length=200)),
                        ('last_error', models.TextField(blank=True)),
                        ('last_http_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('connection', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='municipalities.connection')),
                        ('report', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='reports.report')),
                    ],
                    options={
                        'verbose_name': 'delivery',
                        'verbose_name_plural': 'deliveries',
                        'ordering': ['-created_at'],
                        'db_table': 'reports_delivery',
                    },
                ),
                migrations.CreateModel(
                    name='DeliveryAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('started_at', models.DateTimeField()),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                        ('succeeded', models.BooleanField(default=False)),
                        ('http_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('error', models.TextField(blank=True)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempt_log', to='casehub.delivery')),
                    ],
                    options={
                        'ordering': ['-started_at'],
                        'db_table': 'reports_deliveryattempt',
                    },
                ),
                migrations.CreateModel(
                    name='SignalReceipt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('message_id', models.CharField(max_length=200)),
                        ('received_at', models.DateTimeField(auto_now_add=True)),
                        ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='municipalities.connection')),
                        ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='reports.reportevent')),
                        ('report', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.report')),
                    ],
                    options={
                        'db_table': 'reports_signalreceipt',
                    },
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['state', 'next_attempt_at'], name='delivery_due'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['connection', 'state'], name='delivery_connection_state'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('report', 'connection'), name='one_delivery_per_connection'),
                ),
                migrations.AddConstraint(
                    model_name='signalreceipt',
                    constraint=models.UniqueConstraint(fields=('connection', 'message_id'), name='one_receipt_per_message'),
                ),
            ],
        ),
    ]
