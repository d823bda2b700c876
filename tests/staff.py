"""Staff users for admin tests: given exactly the permissions a test names."""

from django.contrib.auth.models import Permission, User


def staff_client(client, *codenames: str, sees_personal_data: bool):
    """`client` signed in as a staff member with these permissions (by codename), and the
    one to see customers' personal data or not."""
    username = f"staff-{'pd' if sees_personal_data else 'masked'}-{'-'.join(codenames)}"
    user = User.objects.create_user(username[:150], password="pw", is_staff=True)
    if sees_personal_data:
        codenames = (*codenames, "view_personal_data")
    found = Permission.objects.filter(codename__in=codenames)
    assert found.count() == len(set(codenames)), codenames
    user.user_permissions.add(*found)
    client.force_login(user)
    return client
