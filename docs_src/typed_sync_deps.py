from typing import Annotated

from ketch import Depends, Ketch

app = Ketch()


class Settings:
    def __init__(self) -> None:
        self.page_size = 20


def get_settings() -> Settings:
    return Settings()  # builds an object, never blocks: safe on the event loop


def read_motd() -> str:
    with open(__file__, encoding="utf-8") as file:  # file I/O may block: keep it on the thread pool (the default)
        return file.readline().strip()


@app.get("/info")
async def info(
    settings: Annotated[Settings, Depends(get_settings, sync_to_thread=False)],
    motd: Annotated[str, Depends(read_motd)],
) -> dict[str, int | str]:
    return {"page_size": settings.page_size, "motd": motd}
