"""A tiny HTTP client with cookies and CSRF, so end-to-end tests go over real HTTP."""

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar


@dataclass
class Response:
    status: int
    url: str
    headers: dict
    body: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpSession:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
        )

    def get(self, path: str) -> Response:
        return self._send(urllib.request.Request(self.base_url + path))

    def post_form(self, path: str, form_page: str, data: dict) -> Response:
        """POST `data` with the CSRF token of the form on `form_page`, like a browser."""
        page = self.get(form_page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method="POST",
            headers={"Referer": self.base_url + form_page},
        )
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> Response:
        try:
            with self.opener.open(request, timeout=10) as reply:
                return Response(reply.status, reply.url, dict(reply.headers), reply.read().decode())
        except urllib.error.HTTPError as reply:
            return Response(
                reply.code, request.full_url, dict(reply.headers), reply.read().decode()
            )
