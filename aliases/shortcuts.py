"""Fetch-and-check helpers of the alias pages.

They load through the scoped querysets (``visible_to``), so what the acting user may not see
answers 404; ``write=True`` then asks the permission predicate and answers 403 when the object is
visible but not theirs to change.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from aliases.models import Alias


def get_alias_for(request, pk):
    return get_object_or_404(Alias.objects.visible_to(request.user).select_related("domain"), pk=pk)
