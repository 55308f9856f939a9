"""Media tools: yt-dlp (probe, download), ffmpeg (cut, encode, thumbnails) and the network guard.

Submodules are imported explicitly (``from clipmill.media import ytdlp``) so that importing the
package does not pull in yt-dlp for code that only needs ffmpeg.

- ``ffmpeg``     locate ffmpeg/ffprobe, probe files, run ffmpeg cancellably, cut and extract.
- ``netguard``   SSRF guard: classify addresses, check URLs, enforce at connect time.
- ``options``    the request schema for downloads and its one mapping to yt-dlp params.
- ``ytdlp``      yt-dlp as a library: probe and download, errors mapped to clipmill codes.
- ``isolation``  run probe/download in a killable child process.
"""
