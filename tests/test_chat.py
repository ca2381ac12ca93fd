"""The platform-neutral chat model."""

import pytest

from handlers.chat import Attachment, Button, Incoming, Mention, Outgoing


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/start", "start", ""),
        ("/start ABC123", "start", "ABC123"),
        ("/Status@daiban_bot  p1 overdue", "status", "p1 overdue"),
        ("/", None, "/"),
        ("hello /start", None, "hello /start"),
        ("/不是命令", None, "/不是命令"),
        ("  /help  ", "help", ""),
    ],
)
def test_parse_command(text, command, args):
    assert Incoming.parse_command(text) == (command, args)


def test_outgoing_round_trips_through_the_outbox_payload():
    out = Outgoing(
        "**hi**",
        buttons=[[Button("是", "yes"), Button("否", "no")]],
        mentions=[Mention(7, "王强")],
        attachment=Attachment("plan.pdf", "application/pdf", 12, "ref1"),
    )
    assert Outgoing.from_payload(out.to_payload()) == out
