"""A small index of the open matters, for the snapshot figures (open and overdue now) and the
dashboards' stage funnel: every column those queries read, so PostgreSQL answers them from the
index alone, at any level of the tree. Only open, unmerged matters are in it."""

from django.db import migrations

COLUMNS = ("county_id, town_id, village_id, grid_id, stage_kind, stage_deadline, "
           "responsible_org_id, id")

FORWARD = (f"CREATE INDEX figures_open_matter_idx ON matters_matter ({COLUMNS}) "
           "WHERE is_closed = false AND merged_into_id IS NULL")
BACKWARD = "DROP INDEX IF EXISTS figures_open_matter_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("figures", "0002_rollups"),
        ("matters", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
