"""Signs a webhook delivery the way each provider's own library does, for the black-box tests.

Reads {"provider", "secret", "body", "url", "method", "timestamp", "id"} as JSON on stdin and
prints {"headers": {...}} with the headers the provider would send. Nothing here is Latchkey's
code: each signature comes from the provider's published library (or, where the provider ships
none, the recipe in its documentation, named below).
"""

import base64
import datetime
import hashlib
import hmac
import json
import sys
import urllib.parse


def slack(r):
    from slack_sdk.signature import SignatureVerifier

    ts = str(r["timestamp"])
    signature = SignatureVerifier(signing_secret=r["secret"]).generate_signature(
        timestamp=ts, body=r["body"]
    )
    return {"x-slack-request-timestamp": ts, "x-slack-signature": signature}


def stripe(r):
    import stripe as lib

    ts = int(r["timestamp"])
    signature = lib.WebhookSignature._compute_signature(f"{ts}.{r['body']}", r["secret"])
    return {"stripe-signature": f"t={ts},v1={signature}"}


def standard(r):
    from standardwebhooks.webhooks import Webhook

    at = datetime.datetime.fromtimestamp(int(r["timestamp"]), tz=datetime.timezone.utc)
    signature = Webhook(r["secret"]).sign(r["id"], at, r["body"])
    return {
        "webhook-id": r["id"],
        "webhook-timestamp": str(int(r["timestamp"])),
        "webhook-signature": signature,
    }


def twilio(r):
    from twilio.request_validator import RequestValidator

    params = dict(urllib.parse.parse_qsl(r["body"], keep_blank_values=True))
    signature = RequestValidator(r["secret"]).compute_signature(r["url"], params)
    return {"x-twilio-signature": signature}


def hubspot(r):
    from hubspot.utils.signature import Signature

    ts = str(int(r["timestamp"]) * 1000)
    signature = Signature.get_signature(
        client_secret=r["secret"],
        request_body=r["body"],
        signature_version="v3",
        http_uri=r["url"],
        http_method=r.get("method", "POST"),
        timestamp=ts,
    )
    return {"x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": ts}


def shopify(r):
    # Shopify ships no signing library; this is the recipe of its documentation's Python
    # sample ("Verify the webhook": base64 of the HMAC-SHA256 digest of the raw body).
    digest = hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).digest()
    return {"x-shopify-hmac-sha256": base64.b64encode(digest).decode()}


def zoom(r):
    # Zoom's documentation's recipe: "v0:{timestamp}:{body}", HMAC-SHA256 hex, "v0=" before it.
    ts = str(r["timestamp"])
    message = f"v0:{ts}:{r['body']}".encode()
    digest = hmac.new(r["secret"].encode(), message, hashlib.sha256).hexdigest()
    return {"x-zm-request-timestamp": ts, "x-zm-signature": f"v0={digest}"}


def standard_v1a(r):
    # Standard Webhooks' asymmetric signatures (the specification: Ed25519 over
    # "{id}.{timestamp}.{body}", "v1a,<base64>"; the public key given as "whpk_<base64>"),
    # signed with PyNaCl from the seed (hex) passed as the secret.
    from nacl.signing import SigningKey

    key = SigningKey(bytes.fromhex(r["secret"]))
    ts = str(int(r["timestamp"]))
    signed = key.sign(f"{r['id']}.{ts}.{r['body']}".encode()).signature
    return {
        "webhook-id": r["id"],
        "webhook-timestamp": ts,
        "webhook-signature": "v1a," + base64.b64encode(signed).decode(),
        "x-public-key": "whpk_" + base64.b64encode(key.verify_key.encode()).decode(),
    }


def discord(r):
    # Discord's documentation verifies with PyNaCl; the secret here is the signing key's seed
    # (hex), the public key (hex) is what the integration holds.
    from nacl.signing import SigningKey

    key = SigningKey(bytes.fromhex(r["secret"]))
    ts = str(r["timestamp"])
    signature = key.sign(f"{ts}{r['body']}".encode()).signature.hex()
    return {
        "x-signature-ed25519": signature,
        "x-signature-timestamp": ts,
        "x-public-key": key.verify_key.encode().hex(),
    }


def xero(r):
    # Xero's documentation's recipe: base64 of the HMAC-SHA256 of the raw body, keyed with the
    # webhooks key.
    digest = hmac.new(r["secret"].encode(), r["body"].encode(), hashlib.sha256).digest()
    return {"x-xero-signature": base64.b64encode(digest).decode()}


SIGNERS = {
    "discord": discord,
    "standard-webhooks-v1a": standard_v1a,
    "xero": xero,
    "slack": slack,
    "stripe": stripe,
    "standard-webhooks": standard,
    "twilio": twilio,
    "hubspot": hubspot,
    "shopify": shopify,
    "zoom": zoom,
}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    print(json.dumps({"headers": SIGNERS[request["provider"]](request)}))
