"""The panel's pages for API tokens: one's own list, a new token (shown once), revoking."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api import tokens
from api.forms import TokenForm
from api.models import ApiToken
from mailadmin import permissions
from mailadmin.shortcuts import call_service, origin, render_secret


@require_http_methods(["GET", "POST"])
def token_list(request):
    user = request.user
    form = TokenForm(request.POST or None, owner=user)
    if request.method == "POST" and form.is_valid():
        created = call_service(
            form,
            tokens.create,
            acting_user=user,
            owner=user,
            name=form.cleaned_data["name"],
            read_only=form.cleaned_data["read_only"],
            domains=form.chosen_domains(),
            days=form.cleaned_data["days"],
            origin=origin(request),
        )
        if created:
            token, shown = created
            return render_secret(request, "api/token_created.html", {"token": token, "shown": shown})
    context = {"form": form, "tokens": tokens.of(user), "limit": tokens.MAX_PER_ACCOUNT}
    return render(request, "api/tokens.html", context)


@require_POST
def token_revoke(request, pk):
    token = ApiToken.objects.select_related("owner").filter(pk=pk).first()
    if token is None or not permissions.can_revoke_api_token(request.user, token.owner):
        raise Http404("No such token.")
    try:
        tokens.revoke(acting_user=request.user, token=token, origin=origin(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Token “{token.name}” revoked: programs using it are refused from now on.")
    return redirect("tokens:list")
