#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (fuzz/corpus/<target>/<sha1>) from records our tests and Go produce.

Sources (all inside the repo):
* impl/appencryption/tests/data/go-1.26-encoding-json-corpus.jsonl: inputs Go's encoding/json was run on, with
  Go's verdict (records Go wrote, truncations, type errors, escapes, case folding);
* impl/appencryption/tests/data/spec-2.8-vectors.json: the worked example's DRR (Go's bytes) and metastore rows;
* the AWS KMS envelope shapes of impl/appencryption/src/kms/aws.rs (Go's `kms.NewAWS` layout).

`scripts/fuzz.sh --reseed` runs this and then `cargo fuzz cmin` on every target; the minimised corpora are committed.
"""

import base64
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "impl/appencryption/tests/data"
CORPUS = ROOT / "fuzz/corpus"


def write(target, blobs):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for blob in blobs:
        (folder / hashlib.sha1(blob).hexdigest()).write_bytes(blob)


def go_inputs():
    lines = (DATA / "go-1.26-encoding-json-corpus.jsonl").read_text().splitlines()
    return [base64.b64decode(json.loads(line)["in"]) for line in lines if '"in"' in line]


def dynamodb_item(record):
    """A key record (parsed JSON) as the DynamoDB item the metastore writes (docs/compatibility.md#dynamodb-metastore)."""
    fields = {"Created": {"N": str(record["Created"])}, "Key": {"S": record["Key"]}}
    parent = record.get("ParentKeyMeta")
    if parent is not None:
        fields["ParentKeyMeta"] = {
            "M": {"KeyId": {"S": parent["KeyId"]}, "Created": {"N": str(parent["Created"])}}
        }
    if record.get("Revoked"):
        fields["Revoked"] = {"BOOL": True}
    return {"Id": {"S": "_IK_partition_service_product"}, "Created": fields["Created"], "KeyRecord": {"M": fields}}


def main():
    vectors = json.loads((DATA / "spec-2.8-vectors.json").read_text())
    rows = json.loads((DATA / "spec-2.8-metastore-rows.json").read_text())["rows"]
    go = go_inputs()
    spec_drr = vectors["outputs"]["drr_json"].encode()
    key_records = [row["key_record"].encode() for row in rows]

    write("drr_from_json", go + [spec_drr])
    write("ekr_from_json", go + key_records)
    write("record_round_trip", go + [spec_drr] + key_records)
    write("session_decrypt", [spec_drr] + go)

    items = []
    for row in rows:
        record = json.loads(row["key_record"])
        items.append(json.dumps(dynamodb_item(record)).encode())
        record["Revoked"] = True
        items.append(json.dumps(dynamodb_item(record)).encode())
    write("dynamodb_item", items)

    enc_sk = base64.b64encode(bytes.fromhex(vectors["outputs"]["enc_sk_hex"])).decode()
    kek = base64.b64encode(bytes(range(184 % 256))).decode()
    arn = "arn:aws:kms:{0}:111122223333:key/2f5b4c1e-0000-4000-8000-000000000000"
    envelopes = [
        {"encryptedKey": enc_sk, "kmsKeks": [{"region": "us-west-2", "arn": arn.format("us-west-2"), "encryptedKek": kek}]},
        {"encryptedKey": enc_sk, "kmsKeks": [
            {"region": r, "arn": arn.format(r), "encryptedKek": kek} for r in ("us-west-2", "us-east-1", "eu-west-1")
        ]},
        {"encryptedKey": enc_sk, "kmsKeks": None},
        {"EncryptedKey": enc_sk, "KMSKeks": [{"Region": "us-east-1", "ARN": arn.format("us-east-1"), "EncryptedKek": kek}]},
    ]
    write("aws_kms_envelope", [json.dumps(e, separators=(",", ":")).encode() for e in envelopes])


if __name__ == "__main__":
    main()
