"""Ed25519 signature verification under MicroPython (firmware/tillroll/update/ed25519.py), which
checks signed update manifests: the RFC 8032 signatures verify, and a signature with any part
changed, S not reduced, a key off the curve or input of the wrong size is refused without an
exception. SHA-512 (firmware/tillroll/update/sha512.py) gives the FIPS 180-4 examples.
tests/test_ed25519.py checks these vectors and random keys against the `cryptography` library.
"""

from binascii import unhexlify

from tillroll.update.ed25519 import verify
from tillroll.update.sha512 import sha512

# RFC 8032, section 7.1: name -> (PUBLIC KEY, MESSAGE, SIGNATURE), in hex.
RFC_8032 = {
    "TEST 1": (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    "TEST 2": (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    "TEST 3": (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    "TEST 1024": (
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
        "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
        "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
        "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
        "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
        "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
        "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
        "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
        "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
        "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
        "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
        "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
        "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
        "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
        "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
        "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
        "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
        "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
        "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
        "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
        "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
        "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
        "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
        "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
        "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
        "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
        "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
        "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
        "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
        "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
        "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
        "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0",
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
        "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
    ),
}

_L = (1 << 252) + 27742317777372353535851937790883648493  # the group's order (RFC 8032, 5.1)


def vector(name):
    return tuple(unhexlify(h) for h in RFC_8032[name])


def flipped(data, bit):
    out = bytearray(data)
    out[bit // 8] ^= 1 << bit % 8
    return bytes(out)


def test_the_rfc_8032_vectors_verify():
    for name in RFC_8032:
        key, message, signature = vector(name)
        assert verify(key, message, signature), name
    assert len(vector("TEST 1024")[1]) == 1023


def test_sha512_gives_the_fips_180_4_examples():
    assert sha512(b"abc").digest() == unhexlify(
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    )
    two_blocks = (
        b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
    )
    digest = unhexlify(
        "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
        "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
    )
    assert sha512(two_blocks).digest() == digest
    h = sha512()  # the same bytes in pieces that straddle the block boundary
    for i in range(0, len(two_blocks), 5):
        h.update(two_blocks[i : i + 5])
    assert h.digest() == digest


def test_a_signature_with_one_bit_changed_in_r_s_key_or_message_fails():
    key, message, signature = vector("TEST 3")
    for bit in (0, 7, 128, 254, 255):  # R, its sign bit last
        assert not verify(key, message, flipped(signature, bit)), ("R", bit)
    for bit in (256, 300, 500, 507):  # S
        assert not verify(key, message, flipped(signature, bit)), ("S", bit)
    for bit in (0, 100, 255):  # A, its sign bit last
        assert not verify(flipped(key, bit), message, signature), ("A", bit)
    for bit in (0, 15):
        assert not verify(key, flipped(message, bit), signature), ("M", bit)
    assert not verify(key, message + b"\x00", signature)
    assert not verify(key, message[:1], signature)


def test_s_not_reduced_below_the_group_order_fails():
    # [S + L]B is [S]B: only the range check refuses it (RFC 8032, 5.1.7, step 1).
    key, message, signature = vector("TEST 1")
    s = int.from_bytes(signature[32:], "little") + _L
    assert s < 1 << 256
    assert not verify(key, message, signature[:32] + s.to_bytes(32, "little"))


def test_input_of_the_wrong_size_or_type_fails():
    key, message, signature = vector("TEST 2")
    assert not verify(key[:31], message, signature)
    assert not verify(key + b"\x00", message, signature)
    assert not verify(key, message, signature[:63])
    assert not verify(key, message, signature + b"\x00")
    assert not verify(b"", b"", b"")
    assert not verify(None, message, signature)
    assert not verify(key, None, signature)
    assert not verify(key, message, 64)
    assert verify(bytearray(key), memoryview(message), bytearray(signature))


def test_a_key_or_r_that_is_no_curve_point_fails():
    key, message, signature = vector("TEST 2")
    p = (1 << 255) - 19
    off_curve = (2).to_bytes(32, "little")  # y = 2: (y*y - 1) / (d*y*y + 1) has no root
    not_reduced = (p + 3).to_bytes(32, "little")  # y = 3 is on the curve, p + 3 is not canonical
    negative_zero = (1 | 1 << 255).to_bytes(32, "little")  # x = 0 with its sign bit set
    for bad in (off_curve, not_reduced, negative_zero, b"\xff" * 32):
        assert not verify(bad, message, signature), bad
        assert not verify(key, message, bad + signature[32:]), bad
