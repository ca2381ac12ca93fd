"""The one-screen summary of a scheme (方案概要), for staff choosing or checking a preset."""

from __future__ import annotations

from collections import Counter

from domain.scheme import Scheme, count_assumed

_WEEKDAYS = {
    "zh": ("一", "二", "三", "四", "五", "六", "日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

_TEXT = {
    "zh": {
        "source": "来源：{doc}（{title}）",
        "kinds": "服务方式：{kinds}；{free}",
        "free": "免费",
        "paid": "可能收费",
        "roles": "角色：管家={butler}，专员={specialist}，候补={backup}，办公室={office}",
        "departments": "部门：{n} 个；资格规则：{rules} 条",
        "categories": "项目类别（工作日）：{items}",
        "stages": "阶段：{items}",
        "checklist": "事项清单：共 {n} 项（{items}）",
        "ladder": "分级调度：",
        "level": "  {level}. {name}（{dispatcher}）逾期≥{days} 个工作日",
        "reminders": "提醒：到期前 {before} 个工作日；逾期 {backup} 个工作日转候补；{start}–{end}",
        "reports": "报告：每日摘要 {digest}{weekly}{monthly}{quarterly}；考评周期 {cycle}",
        "weekly": "；周调度 周{day}",
        "monthly": "；月报 每月 {day} 日",
        "quarterly": "；季度统计 季初 {days} 个工作日内",
        "cycles": {"monthly": "每月", "quarterly": "每季度", "yearly": "每年"},
        "acceptance": "受理与办结：{items}",
        "card": "一企一卡（{prefix}）",
        "auth": "书面委托：{kinds}",
        "form": "办结单",
        "visit": "回访",
        "mail": "免费邮寄结果",
        "none": "无特别要求",
        "hotline": "热线：{hotline}",
        "faq": "常见问题：{n} 条",
        "assumed": "假定值：{n} 个（来源文件未载明，需当地确认）",
        "sep": "、",
    },
    "en": {
        "source": "Source: {doc} ({title})",
        "kinds": "Service kinds: {kinds}; {free}",
        "free": "free of charge",
        "paid": "may charge",
        "roles": "Roles: butler={butler}, specialist={specialist}, backup={backup}, "
        "office={office}",
        "departments": "Departments: {n}; eligibility rules: {rules}",
        "categories": "Categories (working days): {items}",
        "stages": "Stages: {items}",
        "checklist": "Checklist: {n} items ({items})",
        "ladder": "Escalation ladder:",
        "level": "  {level}. {name} ({dispatcher}) at ≥{days} working days overdue",
        "reminders": "Reminders: {before} working days before due; backup after {backup} overdue; "
        "{start}–{end}",
        "reports": "Reports: daily digest {digest}{weekly}{monthly}{quarterly}; rating {cycle}",
        "weekly": "; weekly dispatch {day}",
        "monthly": "; monthly report on day {day}",
        "quarterly": "; quarterly statistics within {days} working days",
        "cycles": {"monthly": "monthly", "quarterly": "quarterly", "yearly": "yearly"},
        "acceptance": "Acceptance and closing: {items}",
        "card": "service card ({prefix})",
        "auth": "written authorization for {kinds}",
        "form": "completion form",
        "visit": "return visit",
        "mail": "results by free mail",
        "none": "nothing special",
        "hotline": "Hotline: {hotline}",
        "faq": "FAQ entries: {n}",
        "assumed": "Assumed values: {n} (not in the seed document; confirm locally)",
        "sep": ", ",
    },
}


def summarize(scheme: Scheme, lang: str = "zh") -> str:
    """A one-screen (≤ 30 lines) summary of `scheme` in "zh" or "en"."""
    lang = "en" if lang == "en" else "zh"
    t = _TEXT[lang]
    sep = str(t["sep"])
    name = scheme.name.text(lang)
    lines = [f"{name} [{scheme.id}] — {scheme.locality.text(lang)}"]
    lines.append(
        str(t["source"]).format(doc=scheme.source.document, title=scheme.source.title.text(lang))
    )
    kinds = " · ".join(kind.label.text(lang) for kind in scheme.service_kinds)
    lines.append(
        str(t["kinds"]).format(kinds=kinds, free=t["free" if scheme.free_of_charge else "paid"])
    )
    roles = scheme.roles
    lines.append(
        str(t["roles"]).format(
            butler=roles.butler.text(lang),
            specialist=roles.specialist.text(lang),
            backup=roles.backup.text(lang),
            office=roles.office.text(lang),
        )
    )
    lines.append(
        str(t["departments"]).format(n=len(scheme.departments), rules=len(scheme.eligibility))
    )
    categories = sep.join(f"{c.label.text(lang)} {c.limit_workdays}" for c in scheme.categories)
    lines.append(str(t["categories"]).format(items=categories))
    lines.append(
        str(t["stages"]).format(items=" → ".join(s.label.text(lang) for s in scheme.stages))
    )
    per_stage = Counter(item.stage for item in scheme.checklist)
    counts = sep.join(f"{s.label.text(lang)} {per_stage[s.id]}" for s in scheme.stages)
    lines.append(str(t["checklist"]).format(n=len(scheme.checklist), items=counts))
    lines.append(str(t["ladder"]))
    for level in scheme.escalation:
        lines.append(
            str(t["level"]).format(
                level=level.level,
                name=level.name.text(lang),
                dispatcher=level.dispatcher.text(lang),
                days=level.threshold_workdays_overdue,
            )
        )
    reminders = scheme.reminders
    lines.append(
        str(t["reminders"]).format(
            before=reminders.before_due_workdays,
            backup=reminders.backup_after_overdue_workdays,
            start=reminders.working_hours.start.strftime("%H:%M"),
            end=reminders.working_hours.end.strftime("%H:%M"),
        )
    )
    lines.append(_reports_line(scheme, lang))
    lines.append(str(t["acceptance"]).format(items=_acceptance_items(scheme, lang)))
    if scheme.hotline:
        lines.append(str(t["hotline"]).format(hotline=scheme.hotline))
    lines.append(str(t["faq"]).format(n=len(scheme.faq)))
    lines.append(str(t["assumed"]).format(n=count_assumed(scheme)))
    return "\n".join(lines)


def _reports_line(scheme: Scheme, lang: str) -> str:
    t = _TEXT[lang]
    reports = scheme.reports
    weekly = monthly = quarterly = ""
    if reports.weekly_dispatch_weekday:
        day = _WEEKDAYS[lang][reports.weekly_dispatch_weekday - 1]
        weekly = str(t["weekly"]).format(day=day)
    if reports.monthly_report_day:
        monthly = str(t["monthly"]).format(day=reports.monthly_report_day)
    if reports.quarterly_statistics_within_workdays:
        quarterly = str(t["quarterly"]).format(days=reports.quarterly_statistics_within_workdays)
    cycles = t["cycles"]
    assert isinstance(cycles, dict)
    return str(t["reports"]).format(
        digest=reports.digest_time.strftime("%H:%M"),
        weekly=weekly,
        monthly=monthly,
        quarterly=quarterly,
        cycle=cycles[reports.rating_cycle.value],
    )


def _acceptance_items(scheme: Scheme, lang: str) -> str:
    t = _TEXT[lang]
    acceptance = scheme.acceptance
    items: list[str] = []
    if acceptance.issues_service_card:
        items.append(str(t["card"]).format(prefix=acceptance.service_card_prefix))
    if acceptance.requires_written_authorization_for:
        kinds = [
            scheme.service_kind(k).label.text(lang)
            for k in acceptance.requires_written_authorization_for
        ]
        items.append(str(t["auth"]).format(kinds=str(t["sep"]).join(kinds)))
    if acceptance.completion_form:
        items.append(str(t["form"]))
    if acceptance.return_visit:
        items.append(str(t["visit"]))
    if acceptance.results_by_free_mail:
        items.append(str(t["mail"]))
    return str(t["sep"]).join(items) or str(t["none"])
