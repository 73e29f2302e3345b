"""Contact import (CSV/XLSX, mapped, validated, streamed, resumable) and export."""
