from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gongzhi.accounts.actions import do_create_token, do_revoke_token
from gongzhi.accounts.models import ApiToken, User
from gongzhi.core.context import request_context
from gongzhi.core.errors import ActionError
from gongzhi.core.registry import registry
from gongzhi.places.models import Place


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "API bearer tokens: 'token create USER NAME [--scope PERM ...] [--place ID ...] "
        "[--expires-days N]', "
        "'token list', 'token revoke PREFIX'."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        c = sub.add_parser("create", help="create a token and print it once")
        c.add_argument("username")
        c.add_argument("name")
        c.add_argument("--scope", action="append", default=[],
                       help="limit the token to a permission, e.g. places.view (repeatable); "
                            "without any, the token holds all of the user's permissions")
        c.add_argument("--place", action="append", type=int, default=[], metavar="ID",
                       help="limit the token to a place and what lies beneath it (repeatable); "
                            "without any, the token holds wherever the user's roles hold")
        c.add_argument("--expires-days", type=positive_int, default=None, metavar="N",
                       help="the token stops working N days from now (default: never)")
        sub.add_parser("list", help="list tokens")
        r = sub.add_parser("revoke", help="revoke a token by its prefix")
        r.add_argument("prefix")

    def handle(self, *args, **opts):
        with request_context():
            if opts["subcommand"] == "create":
                self.create(opts)
            elif opts["subcommand"] == "list":
                self.list()
            else:
                self.revoke(opts["prefix"])

    def create(self, opts):
        try:
            user = User.objects.get(username=opts["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"no user {opts['username']!r}") from exc
        unknown = sorted(set(opts["scope"]) - set(registry.permissions))
        if unknown:
            raise CommandError(
                f"unknown permission(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(registry.permissions))}"
            )
        places = list(Place.objects.filter(pk__in=opts["place"]))
        missing = sorted(set(opts["place"]) - {p.pk for p in places})
        if missing:
            raise CommandError(f"no place(s): {', '.join(map(str, missing))}")
        expires_at = None
        if opts["expires_days"]:
            expires_at = timezone.now() + timedelta(days=opts["expires_days"])
        try:
            _token, raw = do_create_token(user, opts["name"], acting_user=None,
                                          scopes=opts["scope"], expires_at=expires_at,
                                          places=places)
        except ActionError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(raw)

    def list(self):
        now = timezone.now()
        for t in ApiToken.objects.select_related("user").prefetch_related("places").order_by("id"):
            if t.revoked_at:
                state = "revoked"
            elif t.expires_at and t.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            expires = t.expires_at.isoformat(timespec="minutes") if t.expires_at else "-"
            scopes = ",".join(t.scopes) or "*"
            places = ",".join(str(p.pk) for p in t.places.all()) or "*"
            self.stdout.write(
                f"{t.prefix}\t{t.user.username}\t{t.name}\t{state}\t{expires}\t{scopes}"
                f"\t{places}"
            )

    def revoke(self, prefix: str):
        tokens = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True)[:2])
        if not tokens:
            raise CommandError(f"no active token with prefix {prefix!r}")
        if len(tokens) > 1:
            raise CommandError(f"more than one token has prefix {prefix!r}")
        do_revoke_token(tokens[0], acting_user=None)
        self.stdout.write("revoked")
