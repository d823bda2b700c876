from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class ScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle (the view's `throttle_scope`), rates read at each request."""

    def get_rate(self) -> str | None:
        # DRF binds the rates once, at import; reading them now lets a changed setting apply.
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()
