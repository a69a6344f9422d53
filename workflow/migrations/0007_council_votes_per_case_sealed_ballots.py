"""Council votes per case, ballots sealed until the tally.

Each case on an agenda counts its quorum and threshold over the members who may vote on it
(``eligible_count``; for sessions already held, every member, as they were counted). Ballots already
stored were inserted in each voter's transaction, in voter order: they are rewritten here, per case,
in random order with new random keys, so their row order no longer follows the voters'.
"""

import django.db.models.deletion
import random
import uuid
from django.conf import settings
from django.db import migrations, models




def eligible_were_all_members(apps, schema_editor):
    VoteItem = apps.get_model("workflow", "VoteItem")
    for item in VoteItem.objects.select_related("session").only("pk", "session__member_count"):
        VoteItem.objects.filter(pk=item.pk).update(eligible_count=item.session.member_count)


def reshuffle_ballots(apps, schema_editor):
    Ballot = apps.get_model("workflow", "Ballot")
    shuffle = random.SystemRandom().shuffle
    for item_id in Ballot.objects.values_list("item_id", flat=True).distinct():
        choices = list(Ballot.objects.filter(item_id=item_id).values_list("choice", flat=True))
        shuffle(choices)
        Ballot.objects.filter(item_id=item_id).delete()
        Ballot.objects.bulk_create(Ballot(id=uuid.uuid4(), item_id=item_id, choice=choice) for choice in choices)


class Migration(migrations.Migration):

    dependencies = [
        ('workflow', '0006_beat_fire_timers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='voteitem',
            name='eligible_count',
            field=models.PositiveSmallIntegerField(default=0, help_text="Members of the council on the session's day who may vote on this case: its quorum and threshold are counted over them.", verbose_name='eligible voters'),
            preserve_default=False,
        ),
        migrations.RunPython(eligible_were_all_members, migrations.RunPython.noop),
        migrations.RunPython(reshuffle_ballots, migrations.RunPython.noop),
        migrations.CreateModel(
            name='SealedBallot',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('payload', models.BinaryField()),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sealed_ballots', to='workflow.votesession')),
            ],
            options={
                'verbose_name': 'sealed ballot',
                'verbose_name_plural': 'sealed ballots',
            },
        ),
        migrations.CreateModel(
            name='VoteRecusal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(choices=[('subject', 'the case is about them'), ('unit', 'member of the proposing unit')], max_length=10, verbose_name='reason')),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='recusals', to='workflow.voteitem', verbose_name='case')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'recusal',
                'verbose_name_plural': 'recusals',
                'constraints': [models.UniqueConstraint(fields=('item', 'user'), name='vote_recusal_once')],
            },
        ),
    ]
