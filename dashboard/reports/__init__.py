"""Reports for managers: results, tallies, exports."""
from .views import bp

__all__ = ["bp"]
