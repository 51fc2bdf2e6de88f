from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.context import request_context
from gongzhi.core.errors import ActionError
from gongzhi.open311.actions import do_create_key, do_revoke_key
from gongzhi.open311.formats import Open311Error
from gongzhi.open311.models import AppKey
from gongzhi.open311.service import find_jurisdiction, jurisdiction_id


class Command(BaseCommand):
    help = (
        "Open311 app keys: 'open311 key create JURISDICTION NAME' (prints the key once), "
        "'open311 key list', 'open311 key revoke PREFIX'. JURISDICTION is the county's "
        "jurisdiction_id (its code)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        key = sub.add_parser("key", help="api_keys issued to apps")
        ksub = key.add_subparsers(dest="subcommand", required=True)
        c = ksub.add_parser("create", help="issue a key and print it once")
        c.add_argument("jurisdiction")
        c.add_argument("name")
        ksub.add_parser("list", help="list keys")
        r = ksub.add_parser("revoke", help="revoke a key by its prefix")
        r.add_argument("prefix")

    def handle(self, *args, **opts):
        with request_context():
            if opts["subcommand"] == "create":
                try:
                    county = find_jurisdiction(opts["jurisdiction"])
                    _key, raw = do_create_key(county, opts["name"], acting_user=None)
                except Open311Error as exc:
                    raise CommandError(exc.description) from exc
                except ActionError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
                self.stdout.write(raw)
            elif opts["subcommand"] == "list":
                for k in AppKey.objects.select_related("county").order_by("id"):
                    state = "revoked" if k.revoked_at else "active"
                    used = k.last_used_at.isoformat(timespec="minutes") if k.last_used_at else "-"
                    self.stdout.write(f"{k.prefix}\t{jurisdiction_id(k.county)}\t{k.name}\t"
                                      f"{state}\t{used}")
            else:
                keys = list(AppKey.objects.filter(prefix=opts["prefix"],
                                                  revoked_at__isnull=True)[:2])
                if len(keys) != 1:
                    raise CommandError(f"no single active key with prefix {opts['prefix']!r}")
                do_revoke_key(keys[0], acting_user=None)
                self.stdout.write("revoked")
