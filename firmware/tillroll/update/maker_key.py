"""The maker's Ed25519 public key: updates signed with its private key are taken (docs/update.md).

This is the TEST key, whose private half is tests/keys/test-maker.key: anyone with this
repository can sign updates for a module that carries it. A maker builds with its own: `make
firmware MAKER_KEY=maker.pub` writes that key here in the image (host/tillroll_host/image.py)."""

PUBLIC_KEY = "b477341edbc1b2d1855d0407cfceb8ef7a0c22c3f1f17c3570007f9771012f08"
TEST_KEY = True
