"""An extractor that answers at once, so the bench measures our own path, not a platform."""

from parsing.extractors.base import Extractor
from parsing.recognition import Recognition
from parsing.schema import MediaResult, Video


class InstantExtractor(Extractor):
    def extract(self, target: Recognition) -> MediaResult:
        return MediaResult(platform=target.platform or "", title="bench", duration=1, id=target.id,
                           videos=[Video(url=f"https://cdn.example/{target.id}.mp4", quality="HD")])
