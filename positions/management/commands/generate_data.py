import time

from django.core.management.base import BaseCommand, CommandError

from positions import generate


class Command(BaseCommand):
    help = (
        "Generate deterministic synthetic data for benchmarks: scale 1 is 200,000 statements "
        "on 5,000 sources by 500 actors, on 50 topics. Refuses a database that holds other "
        "data unless --allow-existing; never changes what is there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=0.01, help="1 = 200,000 statements.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data.")
        parser.add_argument(
            "--topics", type=int, default=generate.TOPIC_COUNT, help="Number of topics."
        )
        parser.add_argument(
            "--allow-existing",
            action="store_true",
            help="Add the generated data beside data already there (left unchanged).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Remove generated data first (only that)."
        )

    def handle(self, *args, scale, seed, topics, allow_existing, reset, **options):
        if not 0 < scale <= 10:
            raise CommandError("--scale must be above 0 and at most 10.")
        if not 1 <= topics <= 1000:
            raise CommandError("--topics must be from 1 to 1000.")
        if reset:
            generate.reset()
        began = time.monotonic()
        try:
            plan = generate.generate(
                scale, seed, topics=topics, allow_existing=allow_existing, stream=self.stderr
            )
        except generate.GenerationRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Generated {plan.statements:,} statements, {plan.sources:,} sources, "
            f"{plan.actors:,} actors, {plan.topics} topics, {plan.meetings:,} meetings and "
            f"{plan.proposals:,} proposals in {time.monotonic() - began:.1f} s."
        )
