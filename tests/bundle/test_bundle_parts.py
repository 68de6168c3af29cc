"""The bundle builder's parts on their own: signature reports, icon, version numbers, manifest file."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from installer.bundle import manifest
from scripts.bundle.exe import GUI, resource_script, version_numbers
from scripts.bundle.signatures import Signature, parse, verify

GOOD = """Signature Index: 0  (Primary Signature)

Message digest algorithm  : SHA256
Current message digest    : DEBB5434E9058F2B57C8757B2C1DBAC4580600717ACC66A1BBC3F8C510A06AEC
Calculated message digest : DEBB5434E9058F2B57C8757B2C1DBAC4580600717ACC66A1BBC3F8C510A06AEC

Signer's certificate:
\t------------------
\tSigner #0:
\t\tSubject: /C=US/ST=Oregon/L=Beaverton/O=Python Software Foundation/CN=Python Software Foundation
\t\tIssuer : /C=US/O=Microsoft Corporation/CN=Microsoft ID Verified CS AOC CA 02
\tSigner #1:
\t\tSubject: /C=US/O=Microsoft Corporation/CN=Microsoft ID Verified CS AOC CA 02

Error: unable to get local issuer certificate
Failed
"""


def test_a_psf_signature_whose_digest_matches_passes_even_though_the_chain_is_unknown() -> None:
    sig = parse("python.exe", GOOD)
    assert sig == Signature("python.exe", "DEBB5434E9058F2B57C8757B2C1DBAC4580600717ACC66A1BBC3F8C510A06AEC", True,
                            "Python Software Foundation")
    assert sig.problem() is None


def test_changed_unsigned_and_wrongly_signed_files_are_refused_by_name() -> None:
    changed = GOOD.replace("Calculated message digest : DEBB", "Calculated message digest : 0000")
    assert parse("python313.dll", changed).problem() == "python313.dll was changed after signing (Authenticode digest mismatch)"
    assert parse("evil.pyd", "No signature found.\nFailed\n").problem() == "evil.pyd is not signed"
    assert parse("vcruntime140.dll", GOOD).problem() == \
        "vcruntime140.dll is signed by Python Software Foundation, not Microsoft Corporation"
    other = GOOD.replace("O=Python Software Foundation", "O=Someone Else Ltd")
    assert parse("python.exe", other).problem() == "python.exe is signed by Someone Else Ltd, not Python Software Foundation"


@pytest.mark.slow
def test_osslsigncode_sees_one_changed_byte_in_a_signed_python_binary(bundle: Path, tmp_path: Path) -> None:
    original = bundle / "python" / "_socket.pyd"
    assert verify(original).problem() is None
    tampered = tmp_path / "_socket.pyd"
    shutil.copyfile(original, tampered)
    data = bytearray(tampered.read_bytes())
    data[0x1000] ^= 0xFF  # inside the first section, covered by the Authenticode digest
    tampered.write_bytes(bytes(data))
    assert verify(tampered).problem() == "_socket.pyd was changed after signing (Authenticode digest mismatch)"


def test_version_numbers_for_the_exe_resource() -> None:
    assert version_numbers("0.1.0") == (0, 1, 0, 0)
    assert version_numbers("1.2.3.4.5") == (1, 2, 3, 4)
    assert version_numbers("0.2.0.dev3+g1234") == (0, 2, 0, 0)
    script = resource_script(GUI, "0.2.0rc1")
    assert "FILEVERSION 0,2,0,0" in script and '"ProductVersion", "0.2.0rc1"' in script


def test_the_icon_file_holds_every_size_as_png() -> None:
    from scripts.bundle.icon import SIZES, ico_bytes

    pngs = {size: b"\x89PNG\r\n\x1a\n" + bytes([size % 256]) * size for size in SIZES}
    ico = ico_bytes(pngs)
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, len(SIZES))
    for i, size in enumerate(sorted(SIZES)):
        width, height, _, _, planes, bits, length, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * i:22 + 16 * i])
        assert (width, height) == ((0, 0) if size == 256 else (size, size)) and (planes, bits) == (1, 32)
        assert ico[offset:offset + length] == pngs[size]


def test_a_manifest_round_trips_and_refuses_an_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    written = manifest.Manifest("0.1.0", "3.13.2", manifest.scan(tmp_path), {"python/python.exe": "PSF"}, {"x": "y"})
    manifest.write(tmp_path, written)
    assert manifest.read(tmp_path) == written
    (tmp_path / manifest.FILENAME).write_text('{"format": 99}', encoding="utf-8")
    with pytest.raises(manifest.ManifestError, match="format 99"):
        manifest.read(tmp_path)


@pytest.mark.slow
def test_maple_exe_can_be_authenticode_signed(bundle: Path, tmp_path: Path) -> None:
    """A release signs Maple.exe with its own certificate; here a throw-away one shows it works."""
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert, signed = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "Maple.exe"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/O=Maple Test Signer/CN=Maple Test Signer"], check=True, capture_output=True)
    subprocess.run(["osslsigncode", "sign", "-certs", str(cert), "-key", str(key), "-n", "Maple",
                    "-in", str(bundle / "Maple.exe"), "-out", str(signed)], check=True, capture_output=True)
    sig = verify(signed)
    assert sig.digest_matches and sig.signer == "Maple Test Signer"
    assert verify(bundle / "Maple.exe").problem() == "Maple.exe is not signed"
