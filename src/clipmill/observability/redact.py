"""What users may see of server-side text: no absolute paths, no memory addresses.

Job logs and error messages carry lines from yt-dlp and ffmpeg, which name the files they work
on by absolute path (``/srv/clipmill/data/jobs/<id>/download/media.mp4``) and prefix messages
with the address of a C struct (``[hls @ 0x55b6d7360280]``). Users get the file's name and the
component's name; operators keep the full text in the server log.
"""

from __future__ import annotations

import re

# an absolute path of two or more components (a file: URL too), not part of another URL
_PATH = re.compile(r"(?:file:(?://)?|(?<![\w:/.~-]))/(?:[^\s/'\"]+/)+([^\s/'\",;:)]*)")
_COMPONENT_ADDRESS = re.compile(r"\[([^\]@]+?) @ 0x[0-9a-fA-F]+\]")
_ADDRESS = re.compile(r"\s*@\s*0x[0-9a-fA-F]+|\b0x[0-9a-fA-F]{6,}\b")


def redact(text: str) -> str:
    """``text`` with absolute paths shortened to their last component and addresses removed."""
    text = _COMPONENT_ADDRESS.sub(r"[\1]", text)
    text = _ADDRESS.sub("", text)
    return _PATH.sub(lambda m: m.group(1) or "…", text)
