from django.core.management.base import BaseCommand, CommandError

from gongzhi.accounts.actions import do_create_token, do_revoke_token
from gongzhi.accounts.models import ApiToken, User
from gongzhi.core.context import request_context


class Command(BaseCommand):
    help = "API bearer tokens: 'token create USER NAME [--scope ...]', 'token list', 'token revoke PREFIX'."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        c = sub.add_parser("create", help="create a token and print it once")
        c.add_argument("username")
        c.add_argument("name")
        c.add_argument("--scope", action="append", default=[],
                       help="limit the token to a permission, e.g. matters.view (repeatable)")
        sub.add_parser("list", help="list tokens")
        r = sub.add_parser("revoke", help="revoke a token by its prefix")
        r.add_argument("prefix")

    def handle(self, *args, **opts):
        with request_context():
            if opts["subcommand"] == "create":
                try:
                    user = User.objects.get(username=opts["username"])
                except User.DoesNotExist as exc:
                    raise CommandError(f"no user {opts['username']!r}") from exc
                _token, raw = do_create_token(user, opts["name"], acting_user=None,
                                              scopes=opts["scope"])
                self.stdout.write(raw)
            elif opts["subcommand"] == "list":
                for t in ApiToken.objects.select_related("user").order_by("id"):
                    state = "revoked" if t.revoked_at else "active"
                    self.stdout.write(f"{t.prefix}\t{t.user.username}\t{t.name}\t{state}")
            else:
                token = ApiToken.objects.filter(prefix=opts["prefix"]).first()
                if token is None:
                    raise CommandError(f"no token with prefix {opts['prefix']!r}")
                do_revoke_token(token, acting_user=None)
                self.stdout.write("revoked")
