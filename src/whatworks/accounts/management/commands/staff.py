import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from whatworks.accounts.models import Role, User
from whatworks.accounts.services import (
    account_unlock,
    staff_create,
    two_factor_required,
    two_factor_reset,
)


class Command(BaseCommand):
    help = "Create and list staff accounts with their role and facilities."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a staff account.")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument(
            "--facility", action="append", default=[], help="Facility code; repeat for more."
        )
        create.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )
        actions.add_parser("list", help="List staff accounts.")
        unlock = actions.add_parser("unlock", help="Unlock an account locked after failed logins.")
        unlock.add_argument("username")
        reset_2fa = actions.add_parser(
            "reset-2fa",
            help="Remove a user's authenticator (a lost phone); they must set it up again.",
        )
        reset_2fa.add_argument("username")

    def handle(self, *args, action, **options):
        if action == "list":
            with_2fa = set(
                TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True)
            )
            for user in User.objects.prefetch_related("facilities").order_by("username"):
                codes = ", ".join(f.code for f in user.facilities.all()) or "all facilities"
                state = "" if user.is_active else "  (inactive)"
                state += "  (locked)" if user.locked_at else ""
                state += "  (2fa)" if user.pk in with_2fa else ""
                self.stdout.write(f"{user.username}  {user.role}  {codes}{state}")
            return
        if action == "unlock":
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No staff account {options['username']!r}.")
            account_unlock(actor=None, user=user)
            self.stdout.write(f"Unlocked {user.username}.")
            return
        if action == "reset-2fa":
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No staff account {options['username']!r}.")
            removed = two_factor_reset(actor=None, user=user)
            then = (
                "they must set it up again before they can continue."
                if two_factor_required(user)
                else "they sign in with the password alone until they set it up again."
            )
            self.stdout.write(
                f"Reset two-factor sign-in for {user.username} ({removed} device(s) removed); "
                + then
            )
            return
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        try:
            user = staff_create(
                actor=None,
                username=options["username"],
                role=options["role"],
                facility_codes=options["facility"],
                password=password,
            )
        except ValidationError as error:
            lines = [
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            ]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(f"Created {user.username} ({user.role}).")
