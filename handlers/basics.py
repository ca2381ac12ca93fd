"""Welcome, help, language and the form controls every user has (基础命令)."""

from __future__ import annotations

from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.forms import active_form, resume_form
from handlers.i18n import LANGS, N_, normalize_lang
from handlers.invites import start_with_code
from handlers.router import Router

router = Router("basics")
controls = Router("form controls")  # listed by /help after the staff commands

LANG_BUTTONS = [Button("中文", "lang:zh_CN"), Button("English", "lang:en")]


@router.command("start", help=N_("Welcome and the service menu"))
async def start(ctx: Ctx) -> None:
    """The welcome and the service menu (服务菜单): one button per service kind."""
    if ctx.incoming.args.strip() and await start_with_code(ctx):
        return  # `/start CODE`: an invite code binding this account (handlers/invites.py)
    scheme = ctx.scheme
    lines = [
        ctx._(
            "Hello {name}! This is the {service} of {locality}.",
            name=ctx.person.name,
            service=ctx.label(scheme.service_name),
            locality=ctx.label(scheme.locality),
        ),
    ]
    if scheme.free_of_charge:
        promise = scheme.free_of_charge_promise
        lines.append(ctx.label(promise) if promise else ctx._("The service is free of charge."))
    lines.append(ctx._("What we offer:"))
    lines += [
        ctx._("• **{kind}**: {meaning}", kind=ctx.label(k.label), meaning=ctx.label(k.description))
        for k in scheme.service_kinds
    ]
    lines.append(ctx._("Press a service to learn more, or just type your question."))
    lines.append(ctx._("Send /help for everything you can do here."))
    kinds = [Button(ctx.label(k.label), f"kind:{k.id}") for k in scheme.service_kinds]
    # The language row stays first: numbered-option messengers (WeCom) keep #1/#2 for it.
    buttons = [LANG_BUTTONS, *(kinds[i : i + 2] for i in range(0, len(kinds), 2))]
    buttons.append(_next_steps(ctx))
    form = active_form(ctx)
    if form is not None:
        lines.append(ctx._("You have an unfinished form: {title}.", title=ctx._(form.title)))
        buttons.insert(0, [Button(ctx._("Continue where I stopped"), "resume")])
    await ctx.reply(Outgoing("\n".join(lines), buttons=buttons))


def _next_steps(ctx: Ctx) -> list[Button]:
    return [
        Button(ctx._("Ask a question"), "menu:consult"),
        Button(ctx._("Check eligibility"), "menu:check"),
        Button(ctx._("Apply"), "menu:apply"),
    ]


@router.button("kind:")
async def service_kind(ctx: Ctx) -> None:
    """One service kind explained, with the next steps."""
    wanted = (ctx.incoming.payload or "").removeprefix("kind:")
    try:
        kind = ctx.scheme.service_kind(wanted)
    except KeyError:
        await ctx.reply(ctx._("That service is not offered here. Send /start to see the menu."))
        return
    lines = [f"**{ctx.label(kind.label)}**", ctx.label(kind.description)]
    if wanted in ctx.scheme.acceptance.requires_written_authorization_for or (
        kind.requires_written_authorization
    ):
        lines.append(
            ctx._(
                "This service needs your enterprise's written authorization (书面委托); the "
                "enterprise remains the legal applicant."
            )
        )
    if ctx.scheme.free_of_charge:
        lines.append(ctx._("The service is free of charge."))
    lines.append(
        ctx._("Next: ask a question, check whether your project qualifies, or apply directly.")
    )
    await ctx.reply(Outgoing("\n".join(lines), buttons=[_next_steps(ctx)]))


@router.command("help", help=N_("What you can do here"))
async def help_(ctx: Ctx) -> None:
    """Every command the sender may use, read from the routes' declarations."""
    lines = [ctx._("**What you can do here**")]
    lines += [f"/{name} — {ctx._(text)}" for name, text in ctx.services.router.menu(ctx.roles)]
    if ctx.scheme.hotline:
        lines.append(ctx._("Hotline: {hotline}", hotline=ctx.scheme.hotline))
    await ctx.reply("\n".join(lines))


@router.command("lang", help=N_("Switch language (中文 / English)"))
async def lang(ctx: Ctx) -> None:
    if ctx.incoming.args:
        await _set_lang(ctx, ctx.incoming.args)
        return
    await ctx.reply(Outgoing(ctx._("Choose your language:"), buttons=[LANG_BUTTONS]))


@router.button("lang:")
async def lang_pressed(ctx: Ctx) -> None:
    await _set_lang(ctx, (ctx.incoming.payload or "").removeprefix("lang:"))


async def _set_lang(ctx: Ctx, wanted: str) -> None:
    code = normalize_lang(wanted, default="")
    if code not in LANGS:
        await ctx.reply(
            ctx._("Unknown language “{wanted}”. Choose 中文 or English:", wanted=wanted[:20])
        )
        return
    await ctx.uow.people.set_lang(ctx.person.id, code)
    ctx.person.lang = code
    await ctx.reply(
        ctx._("Language set to English.") if code == "en" else ctx._("Language set to Chinese.")
    )


@controls.command("resume", help=N_("Continue an unfinished form"))
@controls.button("resume")
async def resume(ctx: Ctx) -> None:
    if not await resume_form(ctx, ctx._("Continuing where you stopped.")):
        await ctx.reply(ctx._("You have no unfinished form. Send /help to see what you can do."))


@controls.command("cancel", help=N_("Cancel the form you are filling in"))
async def cancel(ctx: Ctx) -> None:
    # An open form handles /cancel itself; reaching here means there is none.
    await ctx.reply(ctx._("There is nothing to cancel."))
