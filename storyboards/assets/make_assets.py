"""Draw the sample storyboards' images (committed; rerun to regenerate them byte-for-byte)."""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent


def knight() -> Image.Image:
    img = Image.new("RGB", (512, 512), (40, 44, 70))
    d = ImageDraw.Draw(img)
    d.ellipse((196, 60, 316, 180), fill=(180, 184, 196))  # helmet
    d.rectangle((230, 110, 282, 124), fill=(20, 20, 30))  # visor
    d.polygon([(176, 190), (336, 190), (366, 430), (146, 430)], fill=(150, 156, 170))  # armour
    d.rectangle((360, 120, 372, 440), fill=(210, 210, 220))  # sword
    d.rectangle((340, 300, 392, 312), fill=(160, 120, 40))  # hilt
    return img


def forest() -> Image.Image:
    img = Image.new("RGB", (768, 432), (18, 40, 32))
    d = ImageDraw.Draw(img)
    for i in range(12):
        x = 20 + i * 64
        d.rectangle((x + 24, 250, x + 40, 432), fill=(70, 48, 30))
        d.polygon(
            [(x, 280), (x + 32, 60 + (i * 37) % 90), (x + 64, 280)], fill=(30, 110 + i * 8, 60)
        )
    d.ellipse((600, 30, 680, 110), fill=(220, 230, 160))  # moon
    return img


if __name__ == "__main__":
    knight().save(HERE / "knight.png", optimize=True)
    forest().save(HERE / "forest.png", optimize=True)
