from django.core.management.base import BaseCommand, CommandError

from gongzhi.audit.log import verify


class Command(BaseCommand):
    help = "Audit chain tools. 'audit verify' checks every chain and reports the first breach."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        v = sub.add_parser("verify", help="verify the hash chains")
        v.add_argument("--chain", help="only this chain, e.g. county:1")

    def handle(self, *args, **options):
        breaches = verify(options.get("chain"))
        if breaches:
            for breach in breaches:
                self.stderr.write(f"BREACH {breach}")
            raise CommandError(f"{len(breaches)} audit chain(s) broken")
        self.stdout.write(self.style.SUCCESS("audit chains intact"))
