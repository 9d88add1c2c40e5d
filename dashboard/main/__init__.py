from .nav import nav_sections
from .views import bp

__all__ = ["bp", "nav_sections"]
