"""aiogram with its types built when first used (按需构建), not all at import.

``import aiogram`` ends by calling ``model_rebuild`` on each of its ~300 Telegram types
(aiogram/types/__init__.py), which compiles a pydantic-core validator and serializer for
every one of them, each holding its own copy of every type nested in it: 159 MB of
resident memory before the bot has done anything (measured: 11 MB for a bare
interpreter, 170 MB after ``import aiogram``), most of it for types Daiban never sees
(stickers, games, payments, giveaways…).

`import_aiogram` imports aiogram with that loop turned into bookkeeping: each type keeps
the namespace aiogram would have passed (so its forward references still resolve) and is
built by pydantic on its first use, as pydantic does for any model with ``defer_build``
(which aiogram already sets on its base type). Method models and the ``Response[…]``
generics that aiogram creates per call get the same namespace, so they resolve too.
Nothing else changes: the same models, the same validation, built later.

If aiogram was imported before (a test, another module), this changes nothing.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

_NAMESPACE_ATTR = "__pydantic_parent_namespace__"


def import_aiogram() -> None:
    """Import aiogram (once) with its types' validators built on first use."""
    if "aiogram" in sys.modules:
        return
    rebuild = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]

    def deferred(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: dict[str, Any] | None = None,
    ) -> bool | None:
        if _types_namespace is not None and not force:
            # aiogram's import-time loop: remember how to resolve, build when used.
            setattr(cls, _NAMESPACE_ATTR, _types_namespace)
            return None
        result: bool | None = rebuild(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth,
            _types_namespace=_types_namespace,
        )
        return result

    BaseModel.model_rebuild = classmethod(deferred)  # type: ignore[method-assign,assignment]
    try:
        import aiogram
        import aiogram.methods
        import aiogram.types
        from aiogram.methods.base import Response
    finally:
        BaseModel.model_rebuild = classmethod(rebuild)  # type: ignore[method-assign,assignment]
    namespace = getattr(aiogram.types.Update, _NAMESPACE_ATTR, None)
    if not isinstance(namespace, dict):
        return  # aiogram built its types itself (another version): nothing to do
    # Methods and the Response generic name types in their fields; let them resolve
    # those from the same namespace when they are built.
    models = [getattr(aiogram.methods, name) for name in aiogram.methods.__all__]
    for model in [*models, Response]:
        if isinstance(model, type) and issubclass(model, BaseModel):
            own = getattr(model, _NAMESPACE_ATTR, None) or {}
            setattr(model, _NAMESPACE_ATTR, {**namespace, **own})


__all__ = ["import_aiogram"]
