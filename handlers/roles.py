"""The six roles (角色) of the service, with their generic names.

A scheme may give a role a local name (Tongzhou's butler is 项目管家, Anshan's 代办长);
those come from the scheme. These are the fallbacks used in generic messages.
"""

from handlers.i18n import N_

ROLES = ("enterprise", "butler", "specialist", "backup", "office", "leader")
STAFF = frozenset({"butler", "specialist", "backup", "office", "leader"})

ROLE_LABELS = {
    "enterprise": N_("enterprise contact"),
    "butler": N_("project butler"),
    "specialist": N_("specialist"),
    "backup": N_("backup specialist"),
    "office": N_("service office"),
    "leader": N_("leader"),
}
