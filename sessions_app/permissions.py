from rest_framework.permissions import BasePermission


class IsSessionOwner(BasePermission):
    """The instructor who owns the session (object level)."""

    message = "Only the instructor who owns this session can do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.instructor_id == request.user.pk
