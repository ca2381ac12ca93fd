"""The WeCom directory (企业微信通讯录): departments and members, read for the roster sync.

`department/list` gives the departments (id → name), `user/list_id` the member ids page by
page (a cursor), `user/get` each member's name, mobile, departments and status (1 active;
2 disabled and 5 resigned are gone; 4 not yet activated still counts as staff).
"""

from __future__ import annotations

from typing import Any

from bot.roster_sync import DirectoryEntry
from bot.transports.wecom_client import WeComApi

PLATFORM = "wecom"
GONE_STATUSES = {2, 5}  # 已禁用, 退出企业
PAGE = 1000


async def read_directory(api: WeComApi) -> list[DirectoryEntry]:
    """Every member of the organisation as the roster sync compares them."""
    departments = {
        int(d["id"]): str(d.get("name", ""))
        for d in (await api.get("/cgi-bin/department/list", {})).get("department", [])
    }
    userids: list[str] = []
    cursor = ""
    while True:
        body: dict[str, Any] = {"limit": PAGE}
        if cursor:
            body["cursor"] = cursor
        page = await api.call("/cgi-bin/user/list_id", body)
        for row in page.get("dept_user", []):
            if row.get("userid") and row["userid"] not in userids:
                userids.append(str(row["userid"]))
        cursor = str(page.get("next_cursor") or "")
        if not cursor:
            break
    entries = []
    for userid in userids:
        user = await api.get("/cgi-bin/user/get", {"userid": userid})
        entries.append(
            DirectoryEntry(
                external_id=userid,
                name=str(user.get("name") or userid),
                mobile=str(user.get("mobile") or "") or None,
                departments=tuple(departments.get(int(d), "") for d in user.get("department", [])),
                active=int(user.get("status", 1)) not in GONE_STATUSES,
            )
        )
    return entries


__all__ = ["PLATFORM", "read_directory"]
