class SecurityHeadersMiddleware:
    """A strict content security policy: every script and style is served by us.

    htmx is vendored and no page uses inline scripts or styles, so 'self' is enough. The API
    docs page (Django Ninja's Swagger UI, served from the package's own static files) sets
    inline styles from its script, so it alone may use them; scripts stay 'self' only.
    """

    POLICY = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    API_DOCS_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = self.API_DOCS_POLICY if request.path.startswith("/api/v1/docs") else self.POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response
