"""Rendering planned clips into finished short videos.

    shots.py       shot cuts inside a span of the source (a hard cut resets the camera)
    faces.py       faces on downscaled frames a few times a second (offline detector)
    camera.py      a smoothed virtual camera: the crop window over time, per output shape
    captions.py    word-highlighted captions as ASS (pysubs2), per style, inside the safe area
    encode.py      one clip: frame-accurate cut, time-varying crop, burned captions, H.264/AAC
    thumbnails.py  a sharp frame with the face, per clip and shape

Each module is usable on its own; `clipmill.shorts.job_pipeline` puts them together.
"""
