from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.context import request_context
from gongzhi.core.errors import ActionError
from gongzhi.matters import workflow
from gongzhi.matters.actions import PRESETS, do_adopt_preset, load_preset
from gongzhi.matters.models import Matter, MatterSettings, WorkflowDefinition
from gongzhi.matters.presets import policy_problems, preset_problems
from gongzhi.places.models import Place, PlaceKind


class Command(BaseCommand):
    help = (
        "Workflow definitions: 'workflows check' validates every preset and every stored "
        "definition (exit status 1 on any problem), 'workflows list' shows the presets and "
        "what each county uses, 'workflows adopt COUNTY_ID PRESET' switches a county."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("check", help="validate presets, stored definitions and county policies")
        sub.add_parser("list", help="list presets and each county's current workflow")
        a = sub.add_parser("adopt", help="make a county use a preset (new matters only)")
        a.add_argument("county_id", type=int)
        a.add_argument("preset", choices=PRESETS)

    def handle(self, *args, **opts):
        with request_context():
            if opts["subcommand"] == "check":
                self.check_all()
            elif opts["subcommand"] == "list":
                self.list()
            else:
                self.adopt(opts["county_id"], opts["preset"])

    def check_all(self):
        bad = 0
        for key in PRESETS:
            try:
                problems = preset_problems(key, load_preset(key))
            except (OSError, ValueError) as exc:  # unreadable file or broken JSON
                problems = [str(exc)]
            bad += self.report(f"preset {key}", problems)
        for defn in WorkflowDefinition.objects.order_by("county_id", "key", "version"):
            where = f"county {defn.county_id}" if defn.county_id else "shared"
            label = f"workflow {defn.key} v{defn.version} ({where}, id {defn.pk})"
            bad += self.report(label, workflow.validate(defn.definition))
        for settings in MatterSettings.objects.order_by("county_id"):
            bad += self.report(f"policy of county {settings.county_id}",
                               policy_problems(settings.policy))
        if bad:
            raise CommandError(f"{bad} definition(s) with problems")
        self.stdout.write(self.style.SUCCESS("all workflow definitions are valid"))

    def report(self, label: str, problems: list[str]) -> int:
        if not problems:
            self.stdout.write(f"ok     {label}")
            return 0
        self.stdout.write(self.style.ERROR(f"FAILED {label}"))
        for p in problems:
            self.stdout.write(f"         - {p}")
        return 1

    def list(self):
        self.stdout.write("presets:")
        for key in PRESETS:
            preset = load_preset(key)
            wf = preset["workflow"]
            path = " → ".join(s["name"] for s in wf["stages"])
            self.stdout.write(f"  {key:<10} {preset['name']}: {path}")
        counties = Place.objects.filter(kind=PlaceKind.COUNTY).order_by("id")
        settings = {s.county_id: s for s in MatterSettings.objects.select_related("workflow")}
        self.stdout.write("counties:")
        for county in counties:
            s = settings.get(county.pk)
            if s is None:
                self.stdout.write(f"  {county.pk:<6} {county.name}: no preset adopted yet "
                                  "(default on first matter)")
                continue
            open_count = Matter.objects.filter(county=county, is_closed=False).count()
            self.stdout.write(f"  {county.pk:<6} {county.name}: preset {s.preset}, workflow "
                              f"{s.workflow.key} v{s.workflow.version}, {open_count} open matters")

    def adopt(self, county_id: int, key: str):
        county = Place.objects.filter(pk=county_id, kind=PlaceKind.COUNTY).first()
        if county is None:
            raise CommandError(f"no county with id {county_id}")
        try:
            settings = do_adopt_preset(county, key, acting_user=None)
        except ActionError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{county.name} now uses preset {key} (workflow "
                          f"{settings.workflow.key} v{settings.workflow.version}) for new matters")
