from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    key: str
    size: int = 0
    tags: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.key!r} ({self.size:,} bytes)"


async def main(argv: list[str]) -> int:
    entries = [Entry(k, len(k) ** 2) for k in argv if not k.startswith("-")]
    for e in sorted(entries, key=lambda e: (-e.size, e.key)):
        print(e)
    await asyncio.sleep(0.01)
    return 0 if entries else 1

if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(__import__("sys").argv[1:])))
