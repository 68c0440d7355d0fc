from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """Django's makemessages, also finding the messages of audit summaries."""

    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=Summary:1",
        "--keyword=PluralSummary:1,2",
    ]
