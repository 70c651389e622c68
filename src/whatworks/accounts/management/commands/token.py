from django.core.management.base import BaseCommand, CommandError

from whatworks.accounts.models import ApiToken, User
from whatworks.accounts.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser(
            "create", help="Create a token; it is printed as the last line."
        )
        create.add_argument("username")
        create.add_argument("--name", default="command line")
        listing = actions.add_parser("list", help="List a user's tokens (prefixes only).")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        if action == "revoke":
            token = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError(f"No token with prefix {options['prefix']!r}.")
            api_token_revoke(actor=None, token=token)
            self.stdout.write(f"Revoked {token.prefix}…")
            return
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        if action == "list":
            for token in user.api_tokens.all():
                state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                self.stdout.write(f"{token.prefix}…  {token.name}  {state}")
            return
        token, raw = api_token_create(actor=None, user=user, name=options["name"])
        self.stderr.write(f"Token {token.prefix}… for {user.username}; it is shown only once:")
        self.stdout.write(raw)
