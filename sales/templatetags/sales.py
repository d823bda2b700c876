from django import template

from sales import access

register = template.Library()


@register.simple_tag(takes_context=True)
def sales_figures_visible(context) -> bool:
    """Whether the site's menu offers the sales page to whoever is looking."""
    user = getattr(context.get("request"), "user", None)
    return access.figures_are_public() if user is None else access.may_see_figures(user)
