"""The message log is a record of what happened: staff may read it, nobody may edit it."""

from .personal import PersonalDataAdmin, Viewer


class ReadOnlyAdmin(PersonalDataAdmin):
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PageAdmin(ReadOnlyAdmin):
    """An admin page over the message log (registered on a proxy model, so it appears in
    the admin's index). Whoever may read the log may read the page."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("messagelog.view_messagerecord")

    def page_context(self, request, title: str, **context) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "viewer": Viewer.of(request),
            **context,
        }
