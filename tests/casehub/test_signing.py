"""Standard Webhooks signatures: the product's and the development kit's both
reproduce the specification's published test vector, so a receiver's own
library verifies what we send, and our tests sign as such a sender does."""

import pytest

from casehub.signing import SignatureInvalid, secret_key, signature, verify
from devkit import webhooks

# From the Standard Webhooks reference implementations.
VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "msg_id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def test_the_product_reproduces_the_specifications_vector():
    key = secret_key(VECTOR["secret"])
    assert (
        signature(key, VECTOR["msg_id"], VECTOR["timestamp"], VECTOR["body"])
        == VECTOR["signature"]
    )


def test_the_development_kit_reproduces_the_specifications_vector():
    assert (
        webhooks.signature(
            VECTOR["secret"], VECTOR["msg_id"], VECTOR["timestamp"], VECTOR["body"]
        )
        == VECTOR["signature"]
    )


def test_the_product_accepts_the_vector_among_other_signatures_and_refuses_it_late():
    headers = {
        "webhook-id": VECTOR["msg_id"],
        "webhook-timestamp": str(VECTOR["timestamp"]),
        "webhook-signature": f"v1,bm9wZQ== {VECTOR['signature']}",
    }
    now = VECTOR["timestamp"] + 10
    assert (
        verify([VECTOR["secret"]], headers, VECTOR["body"], now=now)
        == "msg_p5jXN8AQM9LWM0D4loKWxJek"
    )
    with pytest.raises(SignatureInvalid, match="5-minute window"):
        verify([VECTOR["secret"]], headers, VECTOR["body"], now=now + 600)
