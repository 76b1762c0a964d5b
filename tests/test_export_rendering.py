"""What the PDF and HTML exports promise beyond holding every entry: the case enters Typst as
data only, accents are drawn alike whichever Unicode form a name was typed in, the PDF is
titled with no author and has bookmarks for the days, the shipped fonts are the ones pinned
here, and the HTML page, opened in a real browser, shows every entry, sets right-to-left
paragraphs right to left, prints on A4 and runs nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from safeguarding import fonts, html, pdf, timeline
from tests import timeline_case as tc

#: The shipped fonts, copied unchanged from Debian's fonts-noto-core 20201225-1 (NotoSans*) and
#: fonts-noto-color-emoji 2.042-0+deb12u1 (NotoColorEmoji), as `sha256sum` prints them.
PINNED = """
e5899ed38b8ed83e08bd3ac5de09791e9d19d288333a796de1d35ad17396f1ec  NotoColorEmoji.ttf
e83493c945848ecd4a9ad0f6d19164541a0d3e23a9c952304a00a46e00272ac5  NotoSans-Bold.ttf
89c3c497f618fdaa0b2d1e98fef93582f28c71debd2c4a8cdf41f190ced2909d  NotoSans-Regular.ttf
ded6fc7359ca36d15d7aab9ef0c066e21ce48b26a069994d6602fa2cb9a1b952  NotoSansArabic-Bold.ttf
504d7407d86875acf7d04dfaa0fd7524d0b8797723bc4aa18022f29db25b0b6e  NotoSansArabic-Regular.ttf
a0f398d0205f0b96d6637ac66d92e6e42b230f8ed3853a050d0aa5792eb9b7f7  NotoSansArmenian-Bold.ttf
9636c32c121f4fc1fc6963dfad60ea32c41889507118a46f83a818eacf40348e  NotoSansArmenian-Regular.ttf
22c9ff99baca4d31c531ce450a1369beed889467e1ad964f4b8a6f810aa46955  NotoSansBengali-Bold.ttf
9bb35b3547829ecc42041b6017e87fd4c5f1da1edcd00f59171777050f346018  NotoSansBengali-Regular.ttf
77ad688cfe1dc55185bf4edb4db3c614202c65dd23a1463ad0e23fc52bcc9a5c  NotoSansDevanagari-Bold.ttf
79a470365ccb210fa3c7d8d8ff2e005ef9d983cfd067f735a0caf7e15070ca9f  NotoSansDevanagari-Regular.ttf
cc16f0c43be76a2ecb5f6d08de4fe6705886b9be90251bfb5959a90955be7f1d  NotoSansEthiopic-Bold.ttf
58bc43b062961b38ee45757d2e74e6a991a12011aa0399fb03004ac432e5c852  NotoSansEthiopic-Regular.ttf
2cee22513f5c94b5577fe1a91df94836dc9825ac78e5b3a9f3c49d1f038a5f11  NotoSansGeorgian-Bold.ttf
ba75f2154fef9beac8439f94c631dc37ef9c708d32f9254bb019afdfa9aa3138  NotoSansGeorgian-Regular.ttf
db2b642c28b021da8cb0f3463bf41376549c850aa718ca863ec3ff5d5df0f2f7  NotoSansGujarati-Bold.ttf
4468a3a24516831874fb4a867b760a22257944584e478d32a97e3c4d4bfc6400  NotoSansGujarati-Regular.ttf
ded9c1f56a7ed0b835cfef5dd642f26cfc0f41a16fbc08008d376ddcc91d606e  NotoSansGurmukhi-Bold.ttf
1db960ff6f506a98f5b3ece78f54618388c6187e7edf8ceee5ab63389c0db3ab  NotoSansGurmukhi-Regular.ttf
d3b01343f71e8a93fffb84c345a1aecbaf4694b98d0eaace916cb9eac9e6dcd3  NotoSansHebrew-Bold.ttf
436900d5ad77d33e4234247f3076eaecd25b92b9bea0519514f684140e3566a7  NotoSansHebrew-Regular.ttf
fcb9918669a24e33b1464b33eeac24e9a0f54a50393dfdaeb1e596cfcf2dac47  NotoSansKannada-Bold.ttf
892b841b0b87ca3c2702bdc78d3031c8220f53e8f5f496ec5e37ccf0ca03ddf7  NotoSansKannada-Regular.ttf
cc74e7ac685da9a84e18b773ec8d80d06765aa1754bb14acc390c3620023c4dc  NotoSansKhmer-Bold.ttf
bc9a5e2afcee249849e409aabe6e22330c479b878ea3e59bf5e7c84482d7ee53  NotoSansKhmer-Regular.ttf
b87a8592f1cdd8b15e1e827967afd45a8c5ffc1123773bc4bd023fe1ccecd321  NotoSansLao-Bold.ttf
6c3de7db369e85cba20255d161eeeb3d934ea3c4c51e2574c2ddcce79a25025c  NotoSansLao-Regular.ttf
abe54dff7c6539899f1208672ae4235207b3e6b8d49594e9ff02d972d5975a81  NotoSansMalayalam-Bold.ttf
5433f4a642b4325aa169a55c4c6b8d1c4a45c4e08bcd9cbe72888229709a8f2d  NotoSansMalayalam-Regular.ttf
e37e2ef189431020b1eaf4fb8d43252666dc24265d628145fff119613afea174  NotoSansMyanmar-Bold.ttf
3fe9a4babc12081adc979e0313433e6ec85bb3ad069681c23ee8d8ea8b91332b  NotoSansMyanmar-Regular.ttf
d563e031a325aa1d5fa7975a7fed3f34409b3ef10036f75d275653e7e4bad5c2  NotoSansOriya-Bold.ttf
20751837a8cac9d0e610ffdf91c43d3391e2b267ca2cad07f6e3866798436369  NotoSansOriya-Regular.ttf
9ac3c2da2562fd3ce449e600a9954a3c5dad982145c85159449fe1c31f648a6e  NotoSansSinhala-Bold.ttf
31f83eec724a27779d1434afc84beabee239c0ff77dc8d04bee9f49c60b23fdd  NotoSansSinhala-Regular.ttf
c46ee5f6447f99edf6a69e24969bcfee891e3699cff9fc45bfb98ec1b7d684fa  NotoSansSymbols-Bold.ttf
24b615ceb7d50a2c09060664ca9e24a160c9beb6bfca0563e8359369a4bc0993  NotoSansSymbols-Regular.ttf
876598db5f1e3bef2bc77c4d94c5b0d5d2c1620be4878a06f18fb5434e331688  NotoSansSymbols2-Regular.ttf
7ef7071ba2fad67dcae397dc7f5bfd4dbce69d86cdc453c2cc4abe640df0b442  NotoSansTamil-Bold.ttf
a7bb7f92f165479af2f0556c4fd669b74c5959f464f603e18389b532f4d07a71  NotoSansTamil-Regular.ttf
34e3a81c02ea8474f00b1046cbb183461648fd253a56475140d6b025db828b5b  NotoSansTelugu-Bold.ttf
cb3165071121b1e80c55a041d0c1f79b3bbc68e4b0eab37b0d881958dfc3ed7a  NotoSansTelugu-Regular.ttf
97bbc8ea98328325285f2f552228c7aac1db39d8f38f0096a61ba7df1f1f780e  NotoSansThai-Bold.ttf
dfbd5ed0f1e68c3cbc51aa08f646d1ab0e68e7c4ceab70a69e465225ff701f93  NotoSansThai-Regular.ttf
"""
FONTS = {name: digest for digest, name in (line.split() for line in PINNED.split("\n") if line)}

HOSTILE_TYPST = (
    '#panic("ran") #let x = 1 [bold] $x^2$ @ref <label> \\ \\\\ *strong* _em_ `raw` '
    '#read("/etc/passwd") = heading #import "@preview/x:0.1.0": * ]) }'
)
ARABIC = "قالت عائشة إنها خائفة."
#: A child's message: a face, a skin tone, a ZWJ sequence and a flag.
EMOJI = "ok \U0001f62d\U0001f44d\U0001f3fd \U0001f937\u200d\u2640\ufe0f \U0001f1ec\U0001f1e7"
HOSTILE_HTML = '<script>document.title="ran"</script><img src=x onerror="document.title=\'ran\'">'


def absent(what: str) -> None:
    """Skip for want of a Debian package, except in CI, where `.ci/run` installs it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed; .ci/run installs it")
    pytest.skip(f"{what} is not installed (.ci/run installs it)")


def with_note(t: timeline.Timeline, text: str) -> timeline.Timeline:
    last = t.items[-1]
    note = dataclasses.replace(last, id=last.id + 1, at=last.at + timedelta(minutes=1), text=text)
    return dataclasses.replace(t, items=(*t.items, note))


@pytest.fixture
def fixed(tmp_path: Path) -> timeline.Timeline:
    return tc.fixed_timeline(tc.build_case(tmp_path))


def pdf_words(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_the_shipped_fonts_are_the_pinned_files_with_their_licence() -> None:
    shipped = {p.name: p for p in fonts.FOLDER.glob("*.ttf")}
    assert set(shipped) == set(FONTS)
    for name, digest in FONTS.items():
        assert hashlib.sha256(shipped[name].read_bytes()).hexdigest() == digest, name
    licence = (fonts.FOLDER / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL Open Font License, Version 1.1" in licence and "Google" in licence
    assert "fonts-noto-core" in licence and "fonts-noto-color-emoji" in licence
    total = sum(p.stat().st_size for p in shipped.values())
    assert total < 18 * 1024 * 1024, total  # the size the README states


def test_hostile_typst_text_comes_out_literally(fixed: timeline.Timeline) -> None:
    t = dataclasses.replace(with_note(fixed, HOSTILE_TYPST), school="#panic() [School] $x$")
    data = pdf.render(t)
    shown = pdf_words(data)
    assert " ".join(HOSTILE_TYPST.split()) in shown
    assert "#panic() [School] $x$" in shown


def test_a_name_typed_precomposed_or_decomposed_draws_the_same_pages(
    fixed: timeline.Timeline, tmp_path: Path
) -> None:
    if shutil.which("pdftoppm") is None:
        absent("pdftoppm (poppler-utils)")
    names = "Nguyễn Thị Ánh, Ọ̀ṣun Adéwálé, Zoë Brontë, Ελένη, Йосиф"
    pages = {}
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, names)
        t = with_note(dataclasses.replace(fixed, school=text), text)
        path = tmp_path / f"{form}.pdf"
        path.write_bytes(pdf.render(t))
        subprocess.run(
            ["pdftoppm", "-r", "100", "-png", str(path), str(tmp_path / form)],
            check=True,
            timeout=120,
        )
        pages[form] = [p.read_bytes() for p in sorted(tmp_path.glob(f"{form}-*.png"))]
    assert unicodedata.normalize("NFD", names) != names  # the two really differ
    assert pages["NFC"] and pages["NFC"] == pages["NFD"]


@pytest.mark.parametrize("note", [None, EMOJI], ids=["text", "emoji"])
def test_the_pdf_has_a_title_no_author_bookmarks_for_the_days_and_claims_pdf_a(
    fixed: timeline.Timeline, note: str | None
) -> None:
    """Typst checks what it writes against PDF/A-2b as it writes it (and fails rather than
    write a PDF that does not conform): emoji, colour images in a Type 3 font, keep the claim."""
    t = fixed if note is None else with_note(fixed, note)
    reader = PdfReader(io.BytesIO(pdf.render(t)))
    info = reader.metadata
    assert info is not None and info.title == f"Safeguarding chronology: {fixed.reference}"
    assert not info.author
    bookmarks = json.dumps(reader.outline, default=lambda o: getattr(o, "title", str(o)))
    for day in fixed.days:
        assert day.day.strftime("%A %d %B %Y") in bookmarks
    assert "Contents" in reader.pages[0].extract_text()
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part[^0-9]*2", xmp) and re.search(r"pdfaid:conformance[^A-Z]*B", xmp)
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert [str(i.get_object()["/S"]) for i in intents] == ["/GTS_PDFA1"]
    kinds = {
        str(font.get_object()["/Subtype"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert ("/Type3" in kinds) == (note is not None)


# HTML in a real browser ------------------------------------------------------------------


def chromium(*args: str, page: Path, profile: Path) -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        absent("chromium")
    assert browser is not None
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


#: Run in the page by the test, never by the export: marks every paragraph with its computed
#: direction.  The export itself forbids scripts; the test adds its own to a copy.
PROBE = (
    "<script>for (const p of document.querySelectorAll('p.text'))"
    " p.setAttribute('data-direction', getComputedStyle(p).direction);</script>"
)


def test_the_html_page_in_a_browser(fixed: timeline.Timeline, tmp_path: Path) -> None:
    t = with_note(fixed, f"Spoke to the family.\n{ARABIC}\n{HOSTILE_HTML}")
    page = tmp_path / "case.html"
    source = html.render(t)
    page.write_text(source, encoding="utf-8")
    dom = chromium("--dump-dom", page=page, profile=tmp_path / "profile")
    flat = " ".join(dom.split())
    for item in t.items:
        for line in item.text.splitlines():
            shown = " ".join(line.split()).replace("&", "&amp;").replace("<", "&lt;")
            assert shown.replace(">", "&gt;") in flat, line
    # the hostile text ran nothing: no script changed the title, no element was made of it
    assert "<title>SG-2026-0001 · safeguarding chronology" in dom and "ran</title>" not in dom
    assert "<img" not in dom and dom.count("<script") == 0
    # right to left, as computed by the browser (a test-only copy with a probe script, and
    # without the page's policy, which would rightly block it)
    probed = tmp_path / "probed.html"
    probed.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", source).replace(
            "</body>", PROBE + "</body>"
        ),
        encoding="utf-8",
    )
    dom = chromium("--dump-dom", page=probed, profile=tmp_path / "profile")
    found = re.findall(r'data-direction="(\w+)"[^>]*>([^<]*)</p>', dom)
    directions = {text: direction for direction, text in found}
    assert directions.get(ARABIC) == "rtl", directions
    assert directions.get("Spoke to the family.") == "ltr", directions
    # printing gives A4 pages
    printed = tmp_path / "printed.pdf"
    chromium(
        f"--print-to-pdf={printed}", "--no-pdf-header-footer", page=page,
        profile=tmp_path / "profile",
    )  # fmt: skip
    box = PdfReader(printed).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((595.28, 841.89), abs=1.5)
