"""The emulator page's own words (界面文字), as gettext message ids.

The page is static JavaScript; it asks `/emulator/api/ui?lang=…` for these, translated by
the same catalogs as the bot, so `locales/` stays the single source of every text.
"""

from __future__ import annotations

from handlers.i18n import N_, gettext, normalize_lang

UI_TEXT: dict[str, str] = {
    "title": N_("Daiban emulator"),
    "you_are": N_("You are"),
    "chats": N_("Chats"),
    "dm_with_bot": N_("Chat with the bot"),
    "group": N_("Group"),
    "no_groups": N_("No project groups yet."),
    "new_group": N_("New group"),
    "group_title": N_("Group name"),
    "new_group_title": N_("Project group"),
    "bound_to": N_("bound to {code}"),
    "unbound": N_("not bound yet"),
    "type_here": N_("Type a message or /command…"),
    "send": N_("Send"),
    "attach": N_("Send a file"),
    "clock": N_("Simulated time"),
    "workday": N_("working day"),
    "day_off": N_("day off"),
    "plus_hour": N_("+1 hour"),
    "plus_workday": N_("+1 working day"),
    "to_date": N_("To date…"),
    "go": N_("Go"),
    "advancing": N_("Running the scheduler…"),
    "inspector": N_("Inspector"),
    "select_message": N_("Select a message to see the event and the outbox row behind it."),
    "event": N_("Incoming event"),
    "outbox_row": N_("Outbox row"),
    "no_event": N_("Sent by a scheduled job, not in answer to an event."),
    "conversation": N_("Conversation state"),
    "no_conversation": N_("No form in progress."),
    "restart": N_("Restart conversation"),
    "reset": N_("Reset demo"),
    "reset_confirm": N_(
        "Reset the demo? This forgets every emulator conversation and message; "
        "other platforms are not touched."
    ),
    "export": N_("Export as story"),
    "export_all": N_("Export the whole session"),
    "mentions_you": N_("mentions you"),
    "disconnected": N_("Connection lost; reconnecting…"),
    "error": N_("Something went wrong: {reason}"),
    "file": N_("File"),
    "bot": N_("Daiban"),
}


def ui_text(lang: str) -> dict[str, str]:
    """Every UI text in `lang` (a catalog code or a browser/messenger language tag)."""
    code = normalize_lang(lang)
    return {key: gettext(code, msgid) for key, msgid in UI_TEXT.items()}
