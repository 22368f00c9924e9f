"""Pseudonyms (HMAC-SHA256 against RFC 4231) and the per-study secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed import privacy

# RFC 4231 section 4: (key, data, HMAC-SHA-256). Case 5 is a truncated output (checked
# on its first 128 bits).
RFC4231 = [
    (bytes([0x0b] * 20), b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (bytes([0xaa] * 20), bytes([0xdd] * 50),
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), bytes([0xcd] * 50),
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (bytes([0x0c] * 20), b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
    (bytes([0xaa] * 131), b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (bytes([0xaa] * 131),
     b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
     b"be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]


@pytest.mark.parametrize("key,data,expected", RFC4231)
def test_hmac_sha256_matches_rfc4231(key, data, expected):
    assert privacy.hmac_sha256_hex(key, data)[: len(expected)] == expected


def test_pseudonym_is_prefix_plus_hmac_digits():
    # RFC 4231 case 6's key is long enough to be a secret: the pseudonym of its message is
    # the prefix and the first 16 hex digits of the published HMAC.
    key, data, expected = RFC4231[5]
    assert privacy.pseudonym(data.decode(), key) == "sm_" + expected[:16]
    p = privacy.pseudonym("athlete-007", bytes(range(32)))
    assert len(p) == 3 + privacy.PSEUDONYM_HEX_DIGITS and p.startswith(privacy.PSEUDONYM_PREFIX)
    int(p[3:], 16)
    assert privacy.pseudonym("athlete-007", bytes(range(32))) == p
    assert privacy.pseudonym("athlete-008", bytes(range(32))) != p
    assert privacy.pseudonym("athlete-007", bytes(range(1, 33))) != p
    # ids are hashed as given, UTF-8
    assert privacy.pseudonym("Zoë", bytes(32)) == "sm_" + privacy.hmac_sha256_hex(bytes(32), "Zoë".encode())[:16]
    assert privacy.pseudonym("007", bytes(32)) != privacy.pseudonym("7", bytes(32))


def test_pseudonym_is_stable_across_processes():
    code = ("from sportsmed.privacy import pseudonym; "
            "print(pseudonym('athlete-007', bytes(range(32))), pseudonym('Zoë', bytes(32)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [privacy.pseudonym("athlete-007", bytes(range(32))), privacy.pseudonym("Zoë", bytes(32))]
    # and across releases: a study's pseudonyms must not change with the library
    assert out[0] == "sm_" + privacy.hmac_sha256_hex(bytes(range(32)), b"athlete-007")[:16]


def test_pseudonym_refuses_short_secret_and_empty_id():
    with pytest.raises(sportsmed.InvalidArgument, match="at least 32"):
        privacy.pseudonym("a", b"Jefe")
    with pytest.raises(sportsmed.InvalidArgument, match="empty"):
        privacy.pseudonym("", bytes(32))


def test_secret_created_0600_reused_and_kept_out_of_outputs(tmp_path):
    path = tmp_path / "keys" / "study.secret"
    path.parent.mkdir()
    s1 = privacy.load_or_create_secret(path, protects=tmp_path / "results")
    assert len(s1) == 32 and path.read_bytes() == s1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert privacy.load_or_create_secret(path) == s1
    assert privacy.load_or_create_secret(tmp_path / "other.secret") != s1   # random, not derived
    assert not [p for p in path.parent.iterdir() if p.name != "study.secret"]  # no temporary left
    with pytest.raises(sportsmed.InvalidArgument, match="inside"):
        privacy.load_or_create_secret(tmp_path / "results" / "s.secret", protects=tmp_path / "results")
    with pytest.raises(sportsmed.InvalidArgument, match="inside"):
        privacy.load_or_create_secret(path, protects=[tmp_path / "results", tmp_path / "keys"])
    assert not (tmp_path / "results").exists()
    short = tmp_path / "short.secret"
    short.write_bytes(b"0123456789")
    with pytest.raises(sportsmed.FormatError, match="10 bytes"):
        privacy.load_or_create_secret(short)


def test_pseudonymise_table():
    secret = bytes(range(32))
    df = pd.DataFrame({"athlete": ["Ann", "Bob", "Ann", None], "club_no": [7, np.nan, 7, 12],
                       "load": [1.0, 2.0, 3.0, 4.0]})
    out = privacy.pseudonymise_table(df, ["athlete", "club_no"], secret)
    assert list(out["athlete"][:3]) == [privacy.pseudonym("Ann", secret), privacy.pseudonym("Bob", secret),
                                        privacy.pseudonym("Ann", secret)]
    assert out["athlete"][3] is None
    assert out["club_no"][0] == privacy.pseudonym("7", secret) == out["club_no"][2]
    assert pd.isna(out["club_no"][1])
    assert out["club_no"][3] == privacy.pseudonym("12", secret)
    assert list(out["load"]) == [1.0, 2.0, 3.0, 4.0]
    assert df["athlete"][0] == "Ann"  # the input is not modified
    with pytest.raises(sportsmed.InvalidArgument, match="no column"):
        privacy.pseudonymise_table(df, "name", secret)
