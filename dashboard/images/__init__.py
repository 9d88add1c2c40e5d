"""Pictures for cards: uploaded once to WeCom (media/uploadimg), which hosts them, and kept in a
library the designer's picker and the library page offer for reuse."""
from .views import bp

__all__ = ["bp"]
