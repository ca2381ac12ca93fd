"""The six roles (角色) of the service, with their generic names.

Every scheme names all six locally (Tongzhou's butler is 项目管家, Anshan's 代办长); messages
take those names from the scheme (handlers.render.role_words), never a generic word.
"""


ROLES = ("enterprise", "butler", "specialist", "backup", "office", "leader")
STAFF = frozenset({"butler", "specialist", "backup", "office", "leader"})
