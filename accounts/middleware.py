"""An account that must use two-factor login and has not set it up sees only the page that sets it up."""

from django.shortcuts import redirect

from accounts.twofactor import SESSION_ENROL

# The pages such an account may still reach: setting it up, and leaving.
ALLOWED = {"accounts:two_factor_setup", "logout"}


class TwoFactorEnrolmentMiddleware:
    """Set at login (``accounts.views.LoginView``) in the session, so a page costs no query for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.session.get(SESSION_ENROL) or not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED:
            return None
        return redirect("accounts:two_factor_setup")
