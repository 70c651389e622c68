from django.core.management.base import BaseCommand, CommandError

from whatworks.demo.server import serve_forever


class Command(BaseCommand):
    help = "Run the production web server (waitress), with static files and GET /healthz."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, **options):
        if not 1 <= options["port"] <= 65535:
            raise CommandError("--port must be between 1 and 65535.")
        self.stdout.write(f"Serving What Works at http://{options['host']}:{options['port']}/")
        serve_forever(host=options["host"], port=options["port"], threads=options["threads"])
