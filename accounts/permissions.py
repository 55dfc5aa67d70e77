from rest_framework.permissions import BasePermission

from accounts.models import Role


class HasRole(BasePermission):
    role: str = ""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role == self.role)


class IsInstructor(HasRole):
    role = Role.INSTRUCTOR
    message = "Only instructors can do this."


class IsClient(HasRole):
    role = Role.CLIENT
    message = "Only clients can do this."
